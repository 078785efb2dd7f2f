//! Canonical JSON (RFC 8785, JCS) for what gets hashed or signed. Signed objects hold only strings,
//! integers, booleans, null, arrays and objects, so JCS reduces to: object keys sorted by UTF-16
//! code units, no white space, strings with only the escapes JSON requires (docs/spec/envelope.md).

use serde_json::Value;

/// Writes `value` in canonical form. Does not depend on how `serde_json` orders maps.
pub fn to_canonical_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        // Integers, booleans and null print the same in every serializer.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_sorted_and_white_space_dropped() {
        let v = json!({"b": 1, "a": [true, null, "x"], "c": {"z": "1", "y": -2}});
        assert_eq!(
            to_canonical_string(&v),
            r#"{"a":[true,null,"x"],"b":1,"c":{"y":-2,"z":"1"}}"#
        );
    }

    #[test]
    fn strings_use_only_required_escapes() {
        let v = json!({"s": "引号\"\\/\n\u{1}é"});
        assert_eq!(
            to_canonical_string(&v),
            "{\"s\":\"引号\\\"\\\\/\\n\\u0001é\"}"
        );
    }
}
