//! The container and service files in `deploy/` against the code: no
//! Docker engine or cluster runs here, so these checks stand in for one.
//! Every `WIREFEED_…` variable they set must be a valid override of the
//! shipped config, every port and probe path must be what the daemon
//! serves, every state path the volume, every command line one the CLI
//! takes, and every file they copy must exist.

use std::path::Path;

use wirefeed::config::FileConfig;
use yaml_rust2::{Yaml, YamlLoader};

use crate::util::{repo_path, wirefeed};

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn yaml(path: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// `KEY=value` pairs of a Dockerfile's ENV instructions.
fn dockerfile_env(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|line| line.trim().strip_prefix("ENV "))
        .flat_map(|rest| {
            rest.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Loads the shipped config with `vars` as the environment and validates
/// it completely (feeds, rule pack, listen address).
fn shipped_config_accepts(vars: &[(String, String)], origin: &str) {
    let path = repo_path("config/wirefeed.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let config = FileConfig::parse_with_env(&text, &path, vars.iter().cloned())
        .unwrap_or_else(|err| panic!("{origin}: {err}"));
    config
        .validate_and_build(&path)
        .unwrap_or_else(|err| panic!("{origin}: {err}"));
}

fn wirefeed_vars(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .filter(|(key, _)| key.starts_with("WIREFEED_"))
        .collect()
}

fn port_of(listen: &str) -> &str {
    listen.rsplit(':').next().unwrap()
}

#[test]
fn dockerfile_and_compose_match_the_code() {
    let dockerfile = read("deploy/docker/Dockerfile");
    let env = dockerfile_env(&dockerfile);
    let vars = wirefeed_vars(env.clone());
    assert!(!vars.is_empty());
    shipped_config_accepts(&vars, "Dockerfile ENV");
    let listen = &vars
        .iter()
        .find(|(key, _)| key == "WIREFEED_HEALTH__LISTEN")
        .unwrap()
        .1;
    let state = &vars
        .iter()
        .find(|(key, _)| key == "WIREFEED_STATE__PATH")
        .unwrap()
        .1;
    let state_dir = Path::new(state)
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(dockerfile.contains(&format!("EXPOSE {}", port_of(listen))));
    assert!(dockerfile.contains(&format!("VOLUME [\"{state_dir}\"]")));
    assert!(dockerfile.contains(&format!("/dev/tcp/127.0.0.1/{}", port_of(listen))));
    assert!(dockerfile.contains("GET /healthz"));
    // What the image copies exists, and its command is one the CLI takes.
    assert!(repo_path("config/wirefeed.toml").exists());
    assert!(repo_path("config/rules/cleaning.toml").exists());
    assert!(dockerfile.contains("COPY config/ /etc/wirefeed/"));
    assert!(dockerfile.contains(r#"CMD ["run", "--config", "/etc/wirefeed/wirefeed.toml"]"#));

    let compose = &yaml("deploy/docker/docker-compose.yml")[0];
    let services = &compose["services"];
    let daemon = &services["wirefeed"];
    let compose_env: Vec<(String, String)> = daemon["environment"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(key, value)| {
            (
                key.as_str().unwrap().to_owned(),
                value.as_str().map(str::to_owned).unwrap_or_else(|| {
                    value
                        .as_i64()
                        .map(|number| number.to_string())
                        .unwrap_or_default()
                }),
            )
        })
        .collect();
    let compose_vars = wirefeed_vars(compose_env);
    shipped_config_accepts(&compose_vars, "docker-compose wirefeed environment");
    let compose_listen = &compose_vars
        .iter()
        .find(|(key, _)| key == "WIREFEED_HEALTH__LISTEN")
        .unwrap()
        .1;
    let published: Vec<&str> = daemon["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(published.contains(&format!("{0}:{0}", port_of(compose_listen)).as_str()));
    let mounts: Vec<&str> = daemon["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(
        mounts
            .iter()
            .any(|mount| mount.ends_with(&format!(":{state_dir}")))
    );
    assert_eq!(
        daemon["build"]["dockerfile"].as_str(),
        Some("deploy/docker/Dockerfile")
    );
    assert_eq!(
        services["kafka"]["image"].as_str(),
        Some("apache/kafka:4.1.1")
    );
    // The tail service's command line parses.
    let tail: Vec<&str> = services["tail"]["command"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(tail[0], "tail");
    let help = String::from_utf8(wirefeed(&["tail", "--help"]).stdout).unwrap();
    for flag in tail.iter().filter(|arg| arg.starts_with("--")) {
        assert!(help.contains(flag), "tail takes no {flag}");
    }
}

#[test]
fn kubernetes_manifests_match_the_code() {
    let documents = yaml("deploy/kubernetes/wirefeed.yaml");
    let kind = |name: &str| {
        documents
            .iter()
            .find(|document| document["kind"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let config_map = kind("ConfigMap");
    let config_text = config_map["data"]["wirefeed.toml"].as_str().unwrap();
    let set = kind("StatefulSet");
    assert_eq!(set["spec"]["replicas"].as_i64(), Some(1), "one writer");
    let container = &set["spec"]["template"]["spec"]["containers"][0];
    let env: Vec<(String, String)> = container["env"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["name"].as_str().unwrap().to_owned(),
                entry["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let vars = wirefeed_vars(env);
    let parsed = FileConfig::parse_with_env(config_text, Path::new("wirefeed.toml"), vars.clone())
        .unwrap_or_else(|err| panic!("ConfigMap with the StatefulSet's environment: {err}"));
    assert_eq!(parsed.health.listen, "0.0.0.0:9464");
    let port = container["ports"][0]["containerPort"].as_i64().unwrap();
    assert_eq!(port.to_string(), port_of(&parsed.health.listen));
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    let health = read("src/health.rs");
    assert!(health.contains("\"/healthz\"") && health.contains("\"/readyz\""));
    assert!(
        container["resources"]["limits"]["memory"]
            .as_str()
            .is_some()
    );
    let state = Path::new(&parsed.state.path);
    let mounts = container["volumeMounts"].as_vec().unwrap();
    let state_mount = mounts
        .iter()
        .find(|mount| mount["name"].as_str() == Some("state"))
        .unwrap();
    assert_eq!(
        Some(state.parent().unwrap().to_str().unwrap()),
        state_mount["mountPath"].as_str()
    );
    let config_mount = mounts
        .iter()
        .find(|mount| mount["name"].as_str() == Some("config"))
        .unwrap()["mountPath"]
        .as_str()
        .unwrap();
    let args: Vec<&str> = container["args"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(
        args,
        ["run", "--config", &format!("{config_mount}/wirefeed.toml")]
    );
    assert_eq!(
        set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as_str(),
        Some("state")
    );
    let service = kind("Service");
    assert_eq!(service["spec"]["ports"][0]["port"].as_i64(), Some(port));
    assert!(
        parsed
            .validate_and_build(Path::new("/etc/wirefeed/config/wirefeed.toml"))
            .is_err_and(|err| err
                .to_string()
                .contains("/etc/wirefeed/rules/cleaning.toml")),
        "the ConfigMap points at the image's rule pack"
    );
}

#[test]
fn systemd_unit_matches_the_code() {
    let unit = read("deploy/systemd/wirefeed.service");
    let value = |key: &str| -> Vec<String> {
        unit.lines()
            .filter_map(|line| line.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
            .collect()
    };
    let env: Vec<(String, String)> = value("Environment")
        .iter()
        .filter_map(|pair| {
            pair.split_once('=')
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
        })
        .collect();
    let vars = wirefeed_vars(env);
    shipped_config_accepts(&vars, "systemd Environment=");
    let state = &vars
        .iter()
        .find(|(key, _)| key == "WIREFEED_STATE__PATH")
        .unwrap()
        .1;
    assert_eq!(value("StateDirectory"), ["wirefeed"]);
    assert!(state.starts_with("/var/lib/wirefeed/"));
    let exec = &value("ExecStart")[0];
    let args: Vec<&str> = exec.split_whitespace().skip(1).collect();
    assert_eq!(
        args,
        [
            "--log-format",
            "json",
            "run",
            "--config",
            "/etc/wirefeed/wirefeed.toml"
        ]
    );
    let help = String::from_utf8(wirefeed(&["run", "--help"]).stdout).unwrap();
    assert!(help.contains("--config"));
    assert_eq!(value("KillSignal"), ["SIGTERM"]);
    assert!(value("ExecReload")[0].contains("-HUP"));
    for hardening in [
        "NoNewPrivileges",
        "ProtectSystem",
        "DynamicUser",
        "PrivateTmp",
    ] {
        assert!(!value(hardening).is_empty(), "{hardening} is set");
    }
}

/// Every `wirefeed_…` metric name a rule expression uses, with the
/// recording rules' own names left out.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("wirefeed_") {
        // A recording rule's name (`wirefeed:…`) or a label value is not a
        // metric; names start at a word boundary.
        let boundary = rest[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '"'));
        let end = rest[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(rest.len(), |end| start + end);
        if boundary {
            names.push(rest[start..end].to_owned());
        }
        rest = &rest[end..];
    }
    names
}

#[test]
fn prometheus_rules_use_metrics_the_daemon_exports() {
    let metrics_source = read("src/metrics.rs");
    let defined: Vec<String> = metrics_source
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"'))
        .chain(metrics_source.lines().filter_map(|line| {
            line.trim()
                .strip_prefix("pub const ")
                .and_then(|rest| rest.split_once("= \""))
                .map(|(_, name)| name)
        }))
        .filter_map(|text| text.split('"').next())
        .filter(|name| name.starts_with("wirefeed_"))
        .map(str::to_owned)
        .collect();
    assert!(defined.len() > 20, "{defined:?}");
    // Histograms are scraped as _bucket, _sum and _count series.
    let known = |name: &str| {
        defined.iter().any(|metric| {
            name == metric
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|suffix| name.strip_suffix(suffix) == Some(metric.as_str()))
        })
    };
    let docs = yaml("deploy/prometheus/wirefeed-rules.yml");
    let groups = docs[0]["groups"].as_vec().expect("groups");
    let mut rules = 0;
    let mut alerts = 0;
    for group in groups {
        for rule in group["rules"].as_vec().expect("rules") {
            rules += 1;
            let expr = rule["expr"].as_str().expect("expr");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{expr} names no wirefeed metric");
            for name in names {
                assert!(known(&name), "{name} (in {expr}) is not a wirefeed metric");
            }
            if let Some(alert) = rule["alert"].as_str() {
                alerts += 1;
                assert!(alert.starts_with("Wirefeed"), "{alert}");
                assert!(rule["annotations"]["summary"].as_str().is_some(), "{alert}");
            } else {
                let record = rule["record"].as_str().expect("record or alert");
                assert!(record.starts_with("wirefeed:"), "{record}");
            }
        }
    }
    assert!(rules >= 8 && alerts >= 4, "{rules} rules, {alerts} alerts");
    // A misspelt name is caught.
    assert!(!known("wirefeed_feed_pols_total"));
}
