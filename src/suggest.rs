//! Deterministic "did you mean" suggestions.

/// Returns the closest candidate to `input`, if one is close enough.
///
/// Ties are broken by the candidates' order, so the answer never depends on
/// hash order (upstream picked from a set).
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (input.chars().count() / 3).max(2);
    let lowered = input.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lowered, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Formats the help line for an unknown name.
pub fn help_line<'a, I>(input: &str, candidates: I, what: &str) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    match did_you_mean(input, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let list: Vec<&str> = candidates.into_iter().collect();
            format!("valid {what}: {}", list.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_closest_deterministically() {
        let c = ["auth", "blog", "crm", "forms"];
        assert_eq!(did_you_mean("crmm", c), Some("crm"));
        assert_eq!(did_you_mean("zzzzzzzz", c), None);
        assert_eq!(did_you_mean("FORMS", c), Some("forms"));
    }
}
