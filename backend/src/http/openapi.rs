//! The completion pass over the generated OpenAPI document: what every
//! operation shares is added here once, generically, so that a path a
//! handler module adds to the ApiDoc is covered without repeating it in
//! its annotation.
//!
//! - every `{name}` in a path is a declared, required path parameter
//!   (`*_id` and `id` are UUIDs, `category` is the `Category` enum,
//!   `n` an index, anything else a non-empty string);
//! - the bearer token and the session cookie are both security schemes,
//!   either one suffices; login is public and the CTI webhook uses its
//!   shared-secret header;
//! - the error statuses the shared layers return are documented with the
//!   `ErrorBody` schema: 401 (no or stale session), 403 (role, scope, or a
//!   cookie request from another origin), 404 (a path id that does not
//!   exist or is not a UUID), 400/413/415/422 (a body that is malformed,
//!   too large, not JSON, or fails validation), 409 on writes (version
//!   conflict, invalid transition), 422 on query parameters, 503 (the
//!   database does not answer).
use serde_json::{json, Map, Value};

use super::{
    openapi_rules::{constrain, constrain_leaf, request_schema_names, strip_null},
    session::COOKIE,
};

/// Operations anyone may call without a session.
const PUBLIC: &[(&str, &str)] = &[("post", "/api/v1/auth/login")];
/// Operations authenticated by the CTI shared secret instead.
const CTI: &[(&str, &str)] = &[("post", "/api/v1/cti/events")];

pub fn complete(doc: &mut Value) {
    add_components(doc);
    doc["security"] = json!([{"bearer": []}, {"cookie": []}]);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if let Some(op) = op.as_object_mut() {
                complete_operation(path, method, op);
            }
        }
    }
    unique_operation_ids(paths);
    let request_schemas = request_schema_names(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in request_schemas {
            if let Some(schema) = schemas.get_mut(&name) {
                constrain(schema);
            }
        }
    }
}

/// Handlers in different modules share names (`detail`, `list`): an
/// operation id used twice becomes `tag_id`, then `tag_id_2`… so that a
/// generated client has one method per operation.
fn unique_operation_ids(paths: &mut Map<String, Value>) {
    let ops = || {
        paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|i| i.values())
    };
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for op in ops() {
        if let Some(id) = op["operationId"].as_str() {
            *counts.entry(id.to_string()).or_default() += 1;
        }
    }
    let mut taken: std::collections::HashSet<String> = counts.keys().cloned().collect();
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|i| i.values_mut())
    {
        let Some(id) = op["operationId"].as_str().map(str::to_string) else {
            continue;
        };
        if counts.get(&id).copied().unwrap_or(0) < 2 {
            continue;
        }
        let tag = op["tags"][0].as_str().unwrap_or("api").replace(' ', "_");
        let base = format!("{tag}_{id}");
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(candidate.clone());
        op["operationId"] = json!(candidate);
    }
}

fn add_components(doc: &mut Value) {
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    let Some(components) = components.and_then(Value::as_object_mut) else {
        return;
    };
    let schemes = components
        .entry("securitySchemes")
        .or_insert_with(|| json!({}));
    schemes["bearer"] = json!({"type": "http", "scheme": "bearer",
        "description": "令牌 from POST /auth/login (the session token)"});
    schemes["cookie"] = json!({"type": "apiKey", "in": "cookie", "name": COOKIE,
        "description": "the console's session cookie, set by POST /auth/login; requests carrying it must come from the server's own origin"});
    schemes["cti"] = json!({"type": "apiKey", "in": "header", "name": "X-CTI-Secret",
        "description": "the shared secret of the telephony (CTI) integration"});
    let schemas = components.entry("schemas").or_insert_with(|| json!({}));
    schemas["ErrorBody"] = json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. validation_failed"},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "the offending field, on validation errors"}
            }
        }}
    });
}

fn complete_operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let names = path_names(path);
    move_to_query(op, &names);
    declare_path_params(op, &names);
    let public = PUBLIC.contains(&(method, path));
    let cti = CTI.contains(&(method, path));
    if public {
        op.insert("security".into(), json!([]));
    } else if cti {
        op.insert("security".into(), json!([{"cti": []}]));
        drop_header_param(op, "X-CTI-Secret");
    }
    let has_body = op.contains_key("requestBody");
    let has_query = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let write = matches!(method, "post" | "put" | "patch" | "delete");
    let mut statuses: Vec<(&str, &str)> = vec![
        ("503", "the database does not answer; nothing was saved"),
        ("401", "no session, or the session ended"),
    ];
    if !public && !cti {
        statuses.push(("403", "not allowed for this role or scope"));
    }
    if !names.is_empty() {
        statuses.push(("404", "no such resource (or the id is not well formed)"));
    }
    if has_body {
        statuses.push(("400", "the body is not JSON"));
        statuses.push(("413", "the body is larger than 1 MiB"));
        statuses.push(("415", "the body is not application/json"));
    }
    if has_body || has_query {
        statuses.push(("422", "validation failed; `field` names the field"));
    }
    if write && !public && !cti {
        statuses.push((
            "409",
            "version conflict or not allowed in the current state",
        ));
    }
    add_error_responses(op, &statuses);
    describe_responses(op);
}

/// OpenAPI requires a description on every response; an annotation
/// without one gets the status's reason phrase.
fn describe_responses(op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let missing = response
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if missing {
            let reason = status
                .parse::<u16>()
                .ok()
                .and_then(|c| axum::http::StatusCode::from_u16(c).ok())
                .and_then(|c| c.canonical_reason())
                .unwrap_or("response");
            response.insert("description".into(), json!(reason));
        }
    }
}

/// `{case_id}`, `{n}` … in the order they appear.
fn path_names(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn param_schema(name: &str) -> Value {
    match name {
        "category" => json!({"$ref": "#/components/schemas/Category"}),
        "n" => json!({"type": "integer", "minimum": 0}),
        "phone" => json!({"type": "string", "minLength": 1, "pattern": "^[0-9+\\- ]+$"}),
        n if n == "id" || n.ends_with("_id") => json!({"type": "string", "format": "uuid"}),
        _ => json!({"type": "string", "minLength": 1}),
    }
}

fn declare_path_params(op: &mut Map<String, Value>, names: &[&str]) {
    if names.is_empty() {
        return;
    }
    let params = op.entry("parameters").or_insert_with(|| json!([]));
    let Some(params) = params.as_array_mut() else {
        return;
    };
    for name in names {
        let declared = params
            .iter()
            .any(|p| p["in"] == "path" && p["name"] == *name);
        if !declared {
            params.push(json!({"name": name, "in": "path", "required": true,
                "schema": param_schema(name)}));
        }
    }
}

/// `IntoParams` structs default to `in: path`: a parameter the path does
/// not name is a query parameter, optional when its type is nullable (an
/// `Option`), and a query string carries no `null`.
fn move_to_query(op: &mut Map<String, Value>, names: &[&str]) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params.iter_mut() {
        let named = p["name"].as_str().is_some_and(|n| names.contains(&n));
        if p["in"] == "path" && named {
            continue;
        }
        if p["in"] == "path" {
            p["in"] = json!("query");
        }
        if p["in"] != "query" {
            continue;
        }
        if let Some(schema) = p.get_mut("schema") {
            let optional = strip_null(schema);
            constrain_leaf(schema, false);
            if optional {
                p["required"] = json!(false);
            }
        }
    }
}

fn drop_header_param(op: &mut Map<String, Value>, name: &str) {
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        params.retain(|p| !(p["in"] == "header" && p["name"] == name));
        if params.is_empty() {
            op.remove("parameters");
        }
    }
}

fn add_error_responses(op: &mut Map<String, Value>, statuses: &[(&str, &str)]) {
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for (status, description) in statuses {
        let entry = responses
            .entry(status.to_string())
            .or_insert_with(|| json!({"description": description}));
        if let Some(entry) = entry.as_object_mut() {
            if entry
                .get("description")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                entry.insert("description".into(), json!(description));
            }
            entry.entry("content").or_insert_with(|| {
                json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}})
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_path_parameters_and_errors() {
        let mut doc = json!({"openapi": "3.1.0", "paths": {
            "/api/v1/cases/{case_id}/notes": {"post": {"requestBody": {}, "responses": {"200": {"description": "ok"}}}}
        }});
        complete(&mut doc);
        let op = &doc["paths"]["/api/v1/cases/{case_id}/notes"]["post"];
        assert_eq!(op["parameters"][0]["name"], "case_id");
        assert_eq!(op["parameters"][0]["schema"]["format"], "uuid");
        for s in [
            "400", "401", "403", "404", "409", "413", "415", "422", "503",
        ] {
            assert!(op["responses"][s].is_object(), "{s}");
        }
        assert!(doc["components"]["securitySchemes"]["cookie"].is_object());
    }

    /// Every `$ref` in the served document names a schema it defines: a
    /// dangling one makes the whole document invalid for every client.
    #[test]
    fn every_reference_in_the_served_document_resolves() {
        fn walk(v: &Value, doc: &Value, missing: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let ptr = r.trim_start_matches('#');
                        if doc.pointer(ptr).is_none() {
                            missing.push(r.clone());
                        }
                    }
                    m.values().for_each(|x| walk(x, doc, missing));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, doc, missing)),
                _ => {}
            }
        }
        let doc = super::super::ops::document();
        let mut missing = Vec::new();
        walk(doc, doc, &mut missing);
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "dangling references: {missing:?}");
    }
}
