//! Field types shared by request bodies. Each one both parses (serde, with
//! the check in `TryFrom`, so a bad value is refused with a message that
//! [`crate::json_body`] prefixes with the field's path) and documents
//! itself (utoipa), so the description of a body cannot drift from what is
//! accepted.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A name or label: a non-empty string (trimmed) of at most 512 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl TryFrom<String> for Text {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 512 {
            return Err("must be a non-empty string of at most 512 characters".into());
        }
        Ok(Text(trimmed.to_string()))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for Text {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(512)).into()
    }
}

impl ToSchema for Text {}

/// An identifier in a path or body: 1 to 128 letters, digits, `.`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identifier(String);

impl Identifier {
    pub const RULE: &'static str = "1 to 128 letters, digits, '.', '_' or '-'";

    /// Checks a raw identifier; the error names `what`.
    pub fn parse(raw: &str, what: &str) -> Result<Identifier, String> {
        Identifier::try_from(raw.to_string()).map_err(|rule| format!("{what}: {rule}"))
    }
}

impl TryFrom<String> for Identifier {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let ok =
            !raw.is_empty() && raw.len() <= 128 && raw.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if ok {
            Ok(Identifier(raw))
        } else {
            Err(Identifier::RULE.to_string())
        }
    }
}

impl From<Identifier> for String {
    fn from(id: Identifier) -> String {
        id.0
    }
}

impl Deref for Identifier {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialSchema for Identifier {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[A-Za-z0-9._-]{1,128}$")).into()
    }
}

impl ToSchema for Identifier {}

/// A JSON object of any fields (addresses, product attributes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FreeObject(pub serde_json::Map<String, serde_json::Value>);

impl PartialSchema for FreeObject {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for FreeObject {}

/// For PATCH bodies, with `#[serde(default, deserialize_with = "nullable")]`:
/// a field that is absent (`None`), null (`Some(None)`: clear it) or set.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A slug naming a catalog entry: a non-empty string of at most 128 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 128 {
            return Err("must be a slug string (1 to 128 characters) or null".into());
        }
        Ok(Slug(raw))
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> String {
        slug.0
    }
}

impl Deref for Slug {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialSchema for Slug {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(128)).into()
    }
}

impl ToSchema for Slug {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_identifiers_say_what_is_wrong() {
        assert_eq!(serde_json::from_str::<Text>(r#"" Men ""#).unwrap().to_string(), "Men");
        assert!(serde_json::from_str::<Text>(r#""  ""#).unwrap_err().to_string().contains("non-empty"));
        assert!(serde_json::from_str::<Identifier>(r#""a b""#).unwrap_err().to_string().contains("letters, digits"));
        assert_eq!(Identifier::parse("SKU-1", "sku").unwrap().to_string(), "SKU-1");
        assert!(Identifier::parse("", "sku").unwrap_err().starts_with("sku: "));
    }
}
