//! Carrier keywords (STOP, START, HELP and their synonyms) and the normalization every keyword,
//! menu choice and SMS command is matched with.

/// A keyword the carriers and regulators give a fixed meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierKeyword {
    /// Opt out of all messages (STOP and synonyms).
    OptOut,
    /// Opt back in after an opt-out (START, YES, UNSTOP).
    OptIn,
    /// Ask for help (HELP, INFO).
    Help,
}

/// Opt-out words: the CTIA set plus REVOKE and OPTOUT per the FCC's 2024 rule.
pub const OPT_OUT_WORDS: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];
/// Opt-in words.
pub const OPT_IN_WORDS: &[&str] = &["START", "YES", "UNSTOP"];
/// Help words.
pub const HELP_WORDS: &[&str] = &["HELP", "INFO"];

/// Normalizes a message for keyword matching: upper case, with every character that is not a letter
/// or digit removed, so " stop! ", "Stop." and "OPT-OUT" match STOP and OPTOUT, while "stop please"
/// ("STOPPLEASE") matches nothing.
pub fn normalize(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// The carrier keyword a whole message is, if it is one.
pub fn classify(text: &str) -> Option<CarrierKeyword> {
    let word = normalize(text);
    if OPT_OUT_WORDS.contains(&word.as_str()) {
        Some(CarrierKeyword::OptOut)
    } else if OPT_IN_WORDS.contains(&word.as_str()) {
        Some(CarrierKeyword::OptIn)
    } else if HELP_WORDS.contains(&word.as_str()) {
        Some(CarrierKeyword::Help)
    } else {
        None
    }
}

/// Keywords a number adds to the standard ones (for example ALTO and PARAR for Spanish speakers). The
/// standard words always work too: carriers and regulators expect them on every number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraKeywords {
    /// Normalized (see [`normalize`]).
    pub opt_out: Vec<String>,
    pub opt_in: Vec<String>,
    pub help: Vec<String>,
}

impl ExtraKeywords {
    /// The carrier keyword a whole message is, counting the standard words and these.
    pub fn classify(&self, text: &str) -> Option<CarrierKeyword> {
        classify(text).or_else(|| {
            let word = normalize(text);
            if self.opt_out.contains(&word) {
                Some(CarrierKeyword::OptOut)
            } else if self.opt_in.contains(&word) {
                Some(CarrierKeyword::OptIn)
            } else if self.help.contains(&word) {
                Some(CarrierKeyword::Help)
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_any_case_punctuation_ignored() {
        assert_eq!(classify(" stop! "), Some(CarrierKeyword::OptOut));
        assert_eq!(classify("Stop."), Some(CarrierKeyword::OptOut));
        assert_eq!(classify("STOP ALL"), Some(CarrierKeyword::OptOut));
        assert_eq!(classify("opt-out"), Some(CarrierKeyword::OptOut));
        assert_eq!(classify("end"), Some(CarrierKeyword::OptOut));
        assert_eq!(classify("Unstop"), Some(CarrierKeyword::OptIn));
        assert_eq!(classify("info?"), Some(CarrierKeyword::Help));
        assert_eq!(classify("stop please"), None);
        assert_eq!(classify("helpful"), None);
    }

    #[test]
    fn a_number_adds_words_and_keeps_the_standard_ones() {
        let extra =
            ExtraKeywords { opt_out: vec!["ALTO".into()], opt_in: vec!["ARRIBA".into()], help: vec!["AYUDA".into()] };
        assert_eq!(extra.classify(" alto! "), Some(CarrierKeyword::OptOut));
        assert_eq!(extra.classify("Arriba"), Some(CarrierKeyword::OptIn));
        assert_eq!(extra.classify("ayuda"), Some(CarrierKeyword::Help));
        assert_eq!(extra.classify("STOP"), Some(CarrierKeyword::OptOut), "the standard words still work");
        assert_eq!(classify("alto"), None, "only on the number that adds it");
    }
}
