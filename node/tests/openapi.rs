//! `GET /openapi.json` (node/src/openapi.json, served as
//! `lvyue_node::server::OPENAPI`) describes exactly the routes that
//! `server::app()` registers, with the same methods, and every `$ref` in it
//! resolves.
//!
//! The routes are read from the source of node/src/server.rs: every
//! `.route("PATH", METHOD(handler)…)` call. Both axum 0.8 and OpenAPI write
//! a path parameter as `{name}`, so the paths compare as they are, except
//! the tile wildcard `/tile/{*path}`: OpenAPI has no wildcard, so the
//! document gives the tile paths of C2SP tlog-tiles one by one, and each of
//! them must start with `/tile/` (see `TILE_PATHS`).

use lvyue_node::server::OPENAPI;
use serde_json::Value;
use std::collections::BTreeSet;

const SERVER_RS: &str = include_str!("../src/server.rs");

/// The axum wildcard route of the tiles.
const TILE_WILDCARD: &str = "/tile/{*path}";

/// The OpenAPI paths that stand for the wildcard.
const TILE_PATHS: &[&str] = &[
    "/tile/{L}/{N}",
    "/tile/{L}/{N}.p/{W}",
    "/tile/entries/{N}",
    "/tile/entries/{N}.p/{W}",
];

/// `(path, method)` of every `.route(…)` in server.rs, methods lowercase.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (i, _) in SERVER_RS.match_indices(".route(\"") {
        let rest = &SERVER_RS[i + ".route(\"".len()..];
        let end = rest.find('"').expect("route path ends with a quote");
        let path = &rest[..end];
        // The method router follows: `, get(handler)` or `, post(handler)`.
        let after = rest[end + 1..].trim_start_matches([',', ' ', '\n']);
        let method = after
            .split('(')
            .next()
            .expect("a method router after the path");
        assert!(
            ["get", "post", "put", "delete", "patch"].contains(&method),
            "route {path}: cannot read its method from {:?}",
            &after[..after.len().min(40)]
        );
        out.insert((path.to_string(), method.to_string()));
    }
    out
}

/// `(path, method)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                out.insert((path.clone(), method.to_string()));
            }
        }
    }
    out
}

fn doc() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
}

#[test]
fn the_source_scan_finds_the_routes() {
    let routes = routes_in_source();
    // A scan that found nothing would make the other tests pass vacuously.
    assert!(routes.len() >= 20, "{routes:?}");
    assert!(routes.contains(&("/v1/submit".into(), "post".into())));
    assert!(routes.contains(&(TILE_WILDCARD.into(), "get".into())));
}

#[test]
fn every_route_of_the_router_is_documented() {
    let ops = operations(&doc());
    for (path, method) in routes_in_source() {
        if path == TILE_WILDCARD {
            for tile in TILE_PATHS {
                assert!(
                    ops.contains(&((*tile).to_string(), method.clone())),
                    "{method} {tile} (for {TILE_WILDCARD}) is not in openapi.json"
                );
            }
            continue;
        }
        assert!(
            ops.contains(&(path.clone(), method.clone())),
            "{method} {path} is routed in server.rs but not in openapi.json"
        );
    }
}

#[test]
fn every_documented_operation_is_routed() {
    let routes = routes_in_source();
    for (path, method) in operations(&doc()) {
        let routed = if path.starts_with("/tile/") {
            TILE_PATHS.contains(&path.as_str())
                && routes.contains(&(TILE_WILDCARD.into(), method.clone()))
        } else {
            routes.contains(&(path.clone(), method.clone()))
        };
        assert!(
            routed,
            "openapi.json has {method} {path}, server.rs does not route it"
        );
    }
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(s)) => out.push(s),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_and_every_ref_resolves() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r}: only local references are used"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    // Every operation answers something, and every path parameter is declared.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}: no responses"
            );
        }
        let declared: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .values()
            .filter_map(|op| op.get("parameters"))
            .chain(item.get("parameters"))
            .flat_map(|ps| ps.as_array().cloned().unwrap_or_default())
            .map(|p| resolve(&doc, &p))
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap_or("").to_string())
            .collect();
        for name in path
            .split('{')
            .skip(1)
            .map(|s| s.split('}').next().unwrap_or(""))
        {
            assert!(
                declared.contains(name),
                "{path}: path parameter {name} is not declared"
            );
        }
    }
}

fn resolve(doc: &Value, v: &Value) -> Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => v.clone(),
    }
}
