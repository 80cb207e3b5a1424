//! The shape of JSON text (how many values, how deep), counted before anything is built from it.

/// The most values a JSON body may hold: a notification has a few dozen, a message two. Parsed,
/// each value costs tens of bytes, and a Datastore value more: without this bound a 1 MiB
/// `[0,0,…]` becomes half a million of each, and 80 of them at once do not fit 256 MiB.
pub const MAX_JSON_VALUES: usize = 10_000;
/// The deepest JSON nesting accepted: Datastore's own limit for nested entity values.
pub const MAX_JSON_DEPTH: usize = 20;

/// Counts the values (at most `max_values`) and the nesting of JSON text without building anything (an over-count:
/// every `,`, `[` and `{` outside strings, plus one). `Err` says what is past the bound, as the end
/// of a sentence ("holds more than ... values").
pub fn check_json_shape(text: &[u8], max_values: usize) -> Result<(), String> {
    let (mut values, mut depth) = (1usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(format!("nests deeper than {MAX_JSON_DEPTH} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > max_values {
            return Err(format!("holds more than {max_values} JSON values"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_bounded_before_parsing() {
        assert!(check_json_shape(br#"{"name": "a,b,[{", "n": [1, 2, {"x": "\\"}]}"#, 10).is_ok());
        let wide = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        assert!(
            check_json_shape(wide.as_bytes(), MAX_JSON_VALUES)
                .is_err_and(|e| e.contains("more than"))
        );
        let strings = format!(r#"{{"a": "{}"}}"#, ",".repeat(100_000));
        assert!(
            check_json_shape(strings.as_bytes(), MAX_JSON_VALUES).is_ok(),
            "commas in strings"
        );
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(check_json_shape(deep(MAX_JSON_DEPTH).as_bytes(), MAX_JSON_VALUES).is_ok());
        assert!(
            check_json_shape(deep(MAX_JSON_DEPTH + 1).as_bytes(), MAX_JSON_VALUES)
                .is_err_and(|e| e.contains("deeper"))
        );
    }
}
