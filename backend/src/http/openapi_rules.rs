//! Request constraints in the OpenAPI document that match what the
//! extractors and services validate for every request (see `openapi`).
use serde_json::{json, Map, Value};

/// Text the server accepts: no C0 control character but tab, line feed
/// and carriage return (`extract::is_forbidden_control`).
const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*$";
/// Required text: the same, with at least one character that is not
/// white space (the services refuse a blank required field).
const REQUIRED_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*[^\\s\\u0000-\\u001F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*$";

/// The component schemas a request body reaches, through `$ref`s.
pub fn request_schema_names(doc: &Value) -> Vec<String> {
    let mut todo: Vec<String> = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for op in paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|i| i.values())
        {
            refs_in(&op["requestBody"], &mut todo);
        }
    }
    let mut seen: Vec<String> = Vec::new();
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        refs_in(&doc["components"]["schemas"][&name], &mut todo);
        seen.push(name);
    }
    seen
}

fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    out.push(name.to_string());
                }
            }
            map.values().for_each(|x| refs_in(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

/// Validation the extractors and services apply to every request, as
/// schema: text without control characters, required text not blank,
/// integers within their format's range, and no control characters in
/// the names of extra properties.
pub fn constrain(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let required: Vec<String> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        obj_constrain_props(props, &required);
        obj.entry("propertyNames")
            .or_insert_with(|| json!({"pattern": TEXT}));
    }
    for key in ["items", "oneOf", "anyOf", "allOf"] {
        match obj.get_mut(key) {
            Some(Value::Array(xs)) => xs.iter_mut().for_each(constrain),
            Some(x @ Value::Object(_)) => constrain(x),
            _ => {}
        }
    }
}

fn obj_constrain_props(props: &mut Map<String, Value>, required: &[String]) {
    for (name, prop) in props.iter_mut() {
        constrain_leaf(prop, required.contains(name));
        constrain(prop);
    }
}

pub fn constrain_leaf(prop: &mut Value, required: bool) {
    let types: Vec<&str> = match &prop["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let plain = prop.get("format").is_none() && prop.get("enum").is_none();
    let is_string = types.contains(&"string");
    let is_integer = types.contains(&"integer");
    let format = prop["format"].as_str().unwrap_or("").to_string();
    let Some(obj) = prop.as_object_mut() else {
        return;
    };
    if is_string && plain && !obj.contains_key("pattern") {
        let pattern = if required { REQUIRED_TEXT } else { TEXT };
        obj.insert("pattern".into(), json!(pattern));
    }
    if is_integer {
        let (min, max) = match format.as_str() {
            "int32" => (i64::from(i32::MIN), i64::from(i32::MAX)),
            "int64" => (-(1_i64 << 53), 1_i64 << 53),
            _ => return,
        };
        obj.entry("minimum").or_insert_with(|| json!(min));
        obj.entry("maximum").or_insert_with(|| json!(max));
    }
}

/// Removes `null` from a schema's type (`["string","null"]`, or a `oneOf`
/// with `{"type":"null"}`); true when it was there.
pub fn strip_null(schema: &mut Value) -> bool {
    if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
        let before = types.len();
        types.retain(|t| t != "null");
        let stripped = types.len() != before;
        if types.len() == 1 {
            schema["type"] = types[0].clone();
        }
        return stripped;
    }
    let Some(one_of) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
        return false;
    };
    let before = one_of.len();
    one_of.retain(|s| s.get("type") != Some(&json!("null")));
    let stripped = one_of.len() != before;
    if one_of.len() == 1 {
        let only = one_of[0].clone();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("oneOf");
            if let Some(inner) = only.as_object() {
                for (k, v) in inner {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
    }
    stripped
}
