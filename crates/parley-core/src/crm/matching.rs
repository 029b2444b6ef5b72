//! Matching a chat to a contact by its phone (docs/crm.md "Matching on connect"). Pure: the store finds
//! the contacts that have the chat's phone; this decides what becomes of the chat. Exactly one
//! candidate is linked at once, none means a new contact is created (so every chat has a contact to
//! record it on), and several are never guessed between: the agent is asked, and the chat goes on
//! normally meanwhile.

/// What matching does with a chat, given the contacts that have its phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOutcome {
    /// No contact has the phone: create one (owner: the queue's `default_owner`) and link it.
    Create,
    /// Exactly one contact has the phone: link it.
    Link(String),
    /// Several contacts have the phone: the chat's link is pending until the agent picks one of these
    /// (sorted, without duplicates, so the prompt and the event list them the same way every time).
    Pending(Vec<String>),
}

/// The outcome for `candidates`, the ids of the contacts that have the chat's phone (in any order,
/// duplicates allowed: a contact may be found through more than one of its phone rows).
pub fn outcome(candidates: &[String]) -> MatchOutcome {
    let mut ids: Vec<String> = candidates.to_vec();
    ids.sort();
    ids.dedup();
    match ids.len() {
        0 => MatchOutcome::Create,
        1 => ids.pop().map_or(MatchOutcome::Create, MatchOutcome::Link),
        _ => MatchOutcome::Pending(ids),
    }
}

/// Whether the consumer's `consumer_messages`-th message of a chat (counted from 1) is the one that
/// triggers matching when the queue waits for `after` messages (`create_after_messages = N`): exactly
/// the Nth, so the (N+1)th does not match a second time.
pub fn nth_message_triggers(after: u32, consumer_messages: u32) -> bool {
    after > 0 && consumer_messages == after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn no_candidate_creates_one_links_several_wait_for_the_agent() {
        assert_eq!(outcome(&[]), MatchOutcome::Create);
        assert_eq!(outcome(&ids(&["CTa"])), MatchOutcome::Link("CTa".to_owned()));
        assert_eq!(outcome(&ids(&["CTb", "CTa"])), MatchOutcome::Pending(ids(&["CTa", "CTb"])));
    }

    #[test]
    fn a_contact_found_twice_is_one_candidate() {
        assert_eq!(outcome(&ids(&["CTa", "CTa"])), MatchOutcome::Link("CTa".to_owned()));
        assert_eq!(outcome(&ids(&["CTb", "CTa", "CTb"])), MatchOutcome::Pending(ids(&["CTa", "CTb"])));
    }

    #[test]
    fn only_the_nth_consumer_message_triggers() {
        assert!(!nth_message_triggers(3, 2));
        assert!(nth_message_triggers(3, 3));
        assert!(!nth_message_triggers(3, 4));
        assert!(!nth_message_triggers(0, 0));
    }
}
