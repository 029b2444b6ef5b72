//! `parley bench language`: how long guessing the language of a chat's first text takes (the engine
//! does it once per new chat, inside its batch), with the detector built as the engine builds it.

use std::time::Instant;

use clap::Args;
use parley_server::language::Detector;

/// What to measure.
#[derive(Debug, Args)]
pub(crate) struct LanguageArgs {
    /// Language tags the setup has (2 to 5 of de, en, es, fr, pt).
    #[arg(long, value_delimiter = ',', default_value = "en,es,fr,pt,de")]
    pub(crate) languages: Vec<String>,
    /// The confidence the guess must reach (0 skips the second pass that computes it).
    #[arg(long, default_value_t = 0.7)]
    pub(crate) min_confidence: f64,
    /// Guesses per text, after as many warm-up guesses.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    pub(crate) rounds: u32,
}

/// Texts a first message might be.
const TEXTS: &[&str] = &[
    "Hola, quiero cancelar mi pedido",
    "Hi, I need help with my bill",
    "Bonjour, je voudrais annuler ma commande",
    "ok thanks",
    "STOP",
];

pub(crate) fn run(args: &LanguageArgs) {
    let started = Instant::now();
    let detector = Detector::new(&args.languages, args.min_confidence);
    let built = started.elapsed();
    let started = Instant::now();
    detector.detect(TEXTS[0]);
    println!(
        "languages {}; min_confidence {}; built in {:.1} µs; first guess (loads the models) {:.1} ms",
        args.languages.join(","),
        args.min_confidence,
        built.as_secs_f64() * 1e6,
        started.elapsed().as_secs_f64() * 1e3
    );
    for text in TEXTS {
        for _ in 0..args.rounds {
            std::hint::black_box(detector.detect(std::hint::black_box(text)));
        }
        let started = Instant::now();
        let mut guess = None;
        for _ in 0..args.rounds {
            guess = std::hint::black_box(detector.detect(std::hint::black_box(text)));
        }
        let per_call = started.elapsed().as_secs_f64() * 1e6 / f64::from(args.rounds.max(1));
        println!("{per_call:>8.1} µs  {:<6} {text:?}", guess.unwrap_or_else(|| "-".to_owned()));
    }
}
