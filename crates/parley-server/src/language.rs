//! Which of the deployment's languages a consumer's first text is written in.
//!
//! Detection is a guess, and SMS texts are short: "ok", "STOP", "12345" or "hello" say little or
//! nothing about a language. So [`Detector::detect`] answers `None` rather than guess when the text
//! is too short, when lingua cannot tell the best language from the runner-up, or when the best
//! language's confidence is below the configured threshold. Falling back (to the language of the
//! business number the consumer texted) is the caller's job, not this module's.
//!
//! Only the languages compiled into lingua (one cargo feature each, see [`Detector::SUPPORTED`]) can
//! be detected; a setup language outside them is never guessed, only reported by
//! [`Detector::unsupported`].

use lingua::{Language, LanguageDetector, LanguageDetectorBuilder};

/// How far the best language's confidence must be ahead of the runner-up's for lingua to name it.
/// With 0.1, a text that fits two languages about equally ("si", "info", "por favor" among five
/// languages) gives `None` instead of a coin toss, while short real sentences still clear it.
const MIN_RELATIVE_DISTANCE: f64 = 0.1;

/// Fewer letters than this is not text to detect: "ok", "12345", "?!".
const MIN_LETTERS: usize = 3;

/// Fewer words than this is a keyword or a greeting, not a sentence. Measured with lingua 1.8.0
/// among English and Spanish: "STOP" is English at 0.81 and "HELP" at 0.94, which is only the
/// carrier keyword talking, and "hello", "cancel", "hotel" and "menu" come out Spanish. The relative
/// distance cannot tell these apart from "hola" (Spanish at 0.66), so every single word is left out.
const MIN_WORDS: usize = 2;

/// Detects the language of a consumer's first text among the languages a deployment is set up for.
///
/// Built once per setup and shared (it is `Send + Sync`); detection takes `&self`.
///
/// Memory: lingua loads its language models lazily, on the first detection that needs them, into
/// process-wide maps shared by every detector, and keeps them for the life of the process. So
/// construction is cheap (under a millisecond), the first [`Detector::detect`] pays once for loading
/// the models (about 5 ms in a release build, 55 ms in a debug one), and all five models together add
/// about 12 MB of RSS. After that a detection of a short SMS takes 15 to 80 µs in a release build
/// (twice that with a `min_confidence`), little enough to run on the engine task.
pub struct Detector {
    /// `None` when fewer than two distinct detectable languages were given: there is nothing to
    /// choose between, and lingua would name the only language for almost any text.
    lingua: Option<LanguageDetector>,
    /// The tag to answer for each detectable language, exactly as the setup spelled it. When two tags
    /// share a primary subtag ("pt-BR", "pt-PT"), the first one given is answered.
    tags: Vec<(Language, String)>,
    /// The confidence the best language must reach. Lingua's confidences for the setup's languages
    /// add up to 1.
    min_confidence: f64,
}

impl Detector {
    /// The primary subtags this build detects: one lingua feature each in this crate's Cargo.toml.
    pub const SUPPORTED: &'static [&'static str] = &["de", "en", "es", "fr", "pt"];

    /// A detector for the setup's language `tags` (BCP 47: "en", "es", "pt-BR"), matched on their
    /// primary subtag (before the first '-' or '_'), case-insensitively. Tags this build cannot detect are left out (see
    /// [`Detector::unsupported`]).
    ///
    /// `min_confidence` is the confidence in 0..=1 the detected language must reach. Confidence values
    /// are shared out among the setup's languages, so the same text scores lower when more languages
    /// are set up. 0 leaves only lingua's relative distance guard; a value above 1 (or NaN) never
    /// detects anything.
    pub fn new(tags: &[String], min_confidence: f64) -> Detector {
        let mut chosen: Vec<(Language, String)> = Vec::new();
        for tag in tags {
            if let Some(language) = language_of(tag)
                && !chosen.iter().any(|(known, _)| *known == language)
            {
                chosen.push((language, tag.clone()));
            }
        }
        let lingua = (chosen.len() >= 2).then(|| {
            let languages: Vec<Language> = chosen.iter().map(|(language, _)| *language).collect();
            LanguageDetectorBuilder::from_languages(&languages)
                .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
                .build()
        });
        Detector { lingua, tags: chosen, min_confidence }
    }

    /// The tag (exactly as given to [`Detector::new`]) of the language `text` is written in.
    ///
    /// `None` when fewer than two detectable languages were given, when the text has fewer than three
    /// letters or fewer than two words (digits, punctuation, "ok", "STOP", "hello"), when lingua
    /// finds no language clearly ahead of the others, or when the best confidence is below
    /// `min_confidence`. The caller then falls back to the number's language.
    pub fn detect(&self, text: &str) -> Option<String> {
        let lingua = self.lingua.as_ref()?;
        if !long_enough(text) {
            return None;
        }
        let language = lingua.detect_language_of(text)?;
        // A second pass over the text, paid only when a threshold is set: lingua's detection does not
        // return the confidence it decided on.
        if self.min_confidence > 0.0 || self.min_confidence.is_nan() {
            let confidence = lingua.compute_language_confidence(text, language);
            // Written so that a NaN threshold rejects, as documented on `new`.
            if confidence < self.min_confidence || self.min_confidence.is_nan() {
                return None;
            }
        }
        self.tags.iter().find(|(known, _)| *known == language).map(|(_, tag)| tag.clone())
    }

    /// The tags of `tags` this build cannot detect, in the order given.
    pub fn unsupported(tags: &[String]) -> Vec<String> {
        tags.iter().filter(|tag| language_of(tag).is_none()).cloned().collect()
    }
}

/// The lingua language for a BCP 47 tag's primary subtag, if this build detects it. Kept in step
/// with [`Detector::SUPPORTED`] and the cargo features by the tests.
fn language_of(tag: &str) -> Option<Language> {
    let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    match primary.as_str() {
        "de" => Some(Language::German),
        "en" => Some(Language::English),
        "es" => Some(Language::Spanish),
        "fr" => Some(Language::French),
        "pt" => Some(Language::Portuguese),
        _ => None,
    }
}

/// Whether `text` has enough letters and words to be worth detecting. Words are runs of letters, as
/// lingua splits them, so "12345", "ok!!" and "STOP 123" are a single word or none.
fn long_enough(text: &str) -> bool {
    let mut letters = 0;
    let mut words = 0;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphabetic() {
            letters += 1;
            if !in_word {
                words += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    letters >= MIN_LETTERS && words >= MIN_WORDS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|t| (*t).to_owned()).collect()
    }

    fn detect(languages: &[&str], text: &str) -> Option<String> {
        Detector::new(&tags(languages), 0.0).detect(text)
    }

    #[test]
    fn detects_clear_sentences() {
        assert_eq!(detect(&["en", "es"], "Hola, quiero cancelar mi pedido").as_deref(), Some("es"));
        assert_eq!(detect(&["en", "es"], "Hi, I need help with my bill").as_deref(), Some("en"));
        assert_eq!(detect(&["en", "es", "fr"], "Bonjour, je voudrais annuler ma commande").as_deref(), Some("fr"));
        assert_eq!(detect(&["en", "de"], "Ich brauche Hilfe mit meiner Rechnung").as_deref(), Some("de"));
    }

    #[test]
    fn answers_the_tag_as_given() {
        let text = "obrigado pela ajuda, preciso de ajuda com a fatura";
        assert_eq!(detect(&["en", "pt-BR"], text).as_deref(), Some("pt-BR"));
        assert_eq!(detect(&["EN", "Es"], "Hola, quiero cancelar mi pedido").as_deref(), Some("Es"));
        // Two tags for one language: the first given is answered.
        assert_eq!(detect(&["en", "pt-BR", "pt-PT"], text).as_deref(), Some("pt-BR"));
    }

    #[test]
    fn too_short_or_keyword_texts_are_not_guessed() {
        let all = ["en", "es", "fr", "pt", "de"];
        for text in ["ok", "OK", "12345", "STOP", "stop", "HELP", "hello", "hola", "?!", "", "12345 ok"] {
            assert_eq!(detect(&["en", "es"], text), None, "{text:?}");
            assert_eq!(detect(&all, text), None, "{text:?}");
        }
    }

    #[test]
    fn texts_fitting_several_languages_are_not_guessed() {
        // Lingua's relative distance guard, not the length rule: two words, nobody clearly ahead.
        assert_eq!(detect(&["en", "es", "fr", "pt", "de"], "por favor"), None);
        assert_eq!(detect(&["en", "es", "fr", "pt", "de"], "si no"), None);
    }

    #[test]
    fn one_language_is_nothing_to_choose_from() {
        assert_eq!(detect(&["es"], "Hola, quiero cancelar mi pedido"), None);
        assert_eq!(detect(&["es", "ja"], "Hola, quiero cancelar mi pedido"), None);
        assert_eq!(detect(&["pt-BR", "pt-PT"], "obrigado pela ajuda, preciso de ajuda com a fatura"), None);
        assert_eq!(detect(&[], "Hola, quiero cancelar mi pedido"), None);
    }

    #[test]
    fn min_confidence_rejects_a_weak_best_language() {
        // "ok thanks" is English at about 0.96 among English and Spanish: detected with no threshold,
        // rejected at 0.99.
        let languages = tags(&["en", "es"]);
        assert_eq!(Detector::new(&languages, 0.0).detect("ok thanks").as_deref(), Some("en"));
        assert_eq!(Detector::new(&languages, 0.99).detect("ok thanks"), None);
        assert_eq!(Detector::new(&languages, f64::NAN).detect("Hi, I need help with my bill"), None);
        // A clear sentence clears a high threshold.
        assert_eq!(Detector::new(&languages, 0.95).detect("Hola, quiero cancelar mi pedido").as_deref(), Some("es"));
    }

    #[test]
    fn unsupported_lists_the_tags_left_out() {
        assert_eq!(Detector::unsupported(&tags(&["en", "ja"])), tags(&["ja"]));
        assert_eq!(Detector::unsupported(&tags(&["pt-BR", "ES", "zh-Hant", ""])), tags(&["zh-Hant", ""]));
    }

    #[test]
    fn supported_matches_the_compiled_languages() {
        for code in Detector::SUPPORTED {
            assert!(language_of(code).is_some(), "{code}");
        }
        let mut compiled: Vec<String> =
            Language::all().iter().map(|language| language.iso_code_639_1().to_string()).collect();
        compiled.sort();
        assert_eq!(compiled, Detector::SUPPORTED);
    }

    #[test]
    fn detector_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Detector>();
    }
}
