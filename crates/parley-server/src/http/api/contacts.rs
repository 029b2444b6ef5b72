//! `/api/v1/contacts`: the built-in CRM's contacts (docs/crm.md "Contacts", "The API"), and
//! `/api/v1/chats/{id}/contact`: a chat's contact, and the agent's choice when several match.
//!
//! Who sees which contact: admins (and admin keys) every contact. Agents and supervisors the contacts
//! of their chats: a contact having the phone of a chat in a queue they see, or linked to one. Agents
//! edit those; supervisors only read. Phones in every view an agent or supervisor gets are masked as
//! the strictest of their queues says (`consumer_number`), and such a caller cannot search by phone
//! digits unless all their queues show whole numbers (a search must not confirm a number someone
//! typed). Reading one contact is recorded in the audit log (`contact:ID`), like reading a chat.
//!
//! Every change writes its `contact.changed` event in the same transaction (the store's rule), so the
//! CRM connectors and webhooks see exactly the changes that happened.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use parley_core::crm::contact::{ContactData, ContactDraft, ContactProblem, PhoneDraft, SearchQuery};
use parley_core::crm::fields::{FieldDef, FieldInput, FieldKind};
use parley_core::crm::{ContactChange, ContactLink};
use parley_core::event::Event;
use parley_core::phone::E164;
use parley_core::setup::{ConsumerNumber, Setup, mask};
use parley_store::StoreError;
use parley_store::contacts::{Among, ContactRow, MAX_PAGE};
use parley_store::crm_links::{ChatContactRow, MatchWrite};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::clock::rfc3339;
use crate::http::api::audit::record_read;
use crate::http::api::chats::{chat_id, visible_chat};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::event_json;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::workers::crm_matcher::{link_to, new_contact, policy_of};

/// The contacts API, with its OpenAPI paths and tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ContactsDoc::openapi())
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact, patch_contact, delete_contact))
        .routes(routes!(merge_contact))
        .routes(routes!(chat_contact, link_chat_contact))
}

#[derive(OpenApi)]
#[openapi(tags((name = "contacts", description = "The built-in CRM: contacts, and the contact of each chat")))]
struct ContactsDoc;

/// One of a contact's phones.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneView {
    /// E.164, or masked (`+*******0100`, `hidden`) as the caller's queues say.
    pub number: String,
    pub primary: bool,
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// `CT` and 32 hex digits; time-ordered.
    pub id: String,
    pub name: Option<String>,
    pub phones: Vec<PhoneView>,
    pub email: Option<String>,
    pub company: Option<String>,
    /// The agent who owns the contact.
    pub owner: Option<String>,
    /// Lower case, sorted.
    pub tags: Vec<String>,
    pub notes: String,
    /// Custom field values by key (`[[contact_fields]]`): numbers as JSON numbers, the rest as strings.
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
    /// The contact's id in each external CRM, by connector name.
    pub external_ids: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A phone as given: `"+14155550100"` or `{"number": "+14155550100", "primary": true}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PhoneInput {
    Number(String),
    Phone {
        number: String,
        #[serde(default)]
        primary: bool,
    },
}

impl PhoneInput {
    fn draft(&self) -> PhoneDraft {
        match self {
            PhoneInput::Number(number) => PhoneDraft { number: number.clone(), primary: false },
            PhoneInput::Phone { number, primary } => PhoneDraft { number: number.clone(), primary: *primary },
        }
    }
}

/// A custom field's value: a number for number fields, a string for the others.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FieldValue {
    Number(f64),
    Text(String),
}

impl FieldValue {
    fn input(&self) -> FieldInput {
        match self {
            FieldValue::Number(n) => FieldInput::Number(*n),
            FieldValue::Text(t) => FieldInput::Text(t.clone()),
        }
    }
}

/// A new contact. At least a name, a phone or an e-mail.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: Option<String>,
    /// E.164; the first is primary unless one says `primary: true`.
    #[serde(default)]
    pub phones: Vec<PhoneInput>,
    pub email: Option<String>,
    pub company: Option<String>,
    /// An agent id.
    pub owner: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// Values of the declared custom fields.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldValue>,
    #[serde(default)]
    pub external_ids: BTreeMap<String, String>,
}

impl ContactInput {
    fn draft(&self) -> ContactDraft {
        ContactDraft {
            name: self.name.clone(),
            phones: self.phones.iter().map(PhoneInput::draft).collect(),
            email: self.email.clone(),
            company: self.company.clone(),
            owner: self.owner.clone(),
            tags: self.tags.clone(),
            notes: self.notes.clone(),
            fields: self.fields.iter().map(|(k, v)| (k.clone(), v.input())).collect(),
            external_ids: self.external_ids.clone(),
        }
    }
}

/// Distinguishes a field that is absent (`None`) from one that is `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change of some of a contact's fields: absent fields stay, `null` clears one. `phones` and `tags`
/// replace the lists; `fields` and `external_ids` change the keys they name (`null` removes one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    pub phones: Option<Vec<PhoneInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub fields: Option<BTreeMap<String, Option<FieldValue>>>,
    pub external_ids: Option<BTreeMap<String, Option<String>>>,
}

/// What a caller reaches of the contacts.
enum Reach {
    All,
    /// The contacts of chats in these queues, phones shown as `masking` says.
    Queues {
        queues: Vec<String>,
        masking: ConsumerNumber,
    },
}

impl Reach {
    fn of(state: &AppState, who: &Principal) -> Reach {
        match who.visible_queues(state) {
            None => Reach::All,
            Some(queues) => {
                let setup = state.engine.setup();
                let masking = queues.iter().map(|q| setup.consumer_number_of(q)).min_by_key(|m| openness(*m));
                Reach::Queues {
                    queues: queues.iter().map(ToString::to_string).collect(),
                    // No queue at all: nothing is reached, and nothing shown.
                    masking: masking.unwrap_or(ConsumerNumber::Hidden),
                }
            }
        }
    }

    fn masking(&self) -> ConsumerNumber {
        match self {
            Reach::All => ConsumerNumber::Full,
            Reach::Queues { masking, .. } => *masking,
        }
    }
}

/// How much of a number a masking shows (more is more open).
fn openness(m: ConsumerNumber) -> u8 {
    match m {
        ConsumerNumber::Hidden => 0,
        ConsumerNumber::LastFour => 1,
        ConsumerNumber::Full => 2,
    }
}

/// The JSON value of a stored custom value: numbers of number fields as numbers.
fn field_value(declared: &[FieldDef], key: &str, value: &str) -> Value {
    let number = declared.iter().any(|d| d.key == key && d.kind == FieldKind::Number);
    match value.parse::<f64>().ok().filter(|_| number).and_then(serde_json::Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(value.to_owned()),
    }
}

/// The view of a contact with its phones masked as `masking` says.
pub fn contact_view(setup: &Setup, c: &ContactRow, masking: ConsumerNumber) -> ContactView {
    let d = &c.data;
    ContactView {
        id: c.id.clone(),
        name: d.name.clone(),
        phones: d.phones.iter().map(|p| PhoneView { number: mask(&p.number, masking), primary: p.primary }).collect(),
        email: d.email.clone(),
        company: d.company.clone(),
        owner: d.owner.clone(),
        tags: d.tags.iter().cloned().collect(),
        notes: d.notes.clone(),
        fields: d.fields.iter().map(|(k, v)| (k.clone(), field_value(&setup.contact_fields, k, v))).collect(),
        external_ids: d.external_ids.clone(),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
    }
}

/// A contact id from a path or body: `CT` and 32 hex digits.
fn valid_id(id: &str) -> bool {
    id.len() == 34 && id.starts_with("CT") && id[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn no_contact(id: &str) -> ApiError {
    ApiError::not_found(format!("there is no contact {id} among the contacts you can see"))
}

/// Loads a contact the caller reaches (404 otherwise: a contact outside one's chats is not confirmed).
async fn reached_contact(state: &AppState, reach: &Reach, id: &str) -> Result<ContactRow, ApiError> {
    if !valid_id(id) {
        return Err(no_contact(id));
    }
    let contact = state.store.contact(id).await?.ok_or_else(|| no_contact(id))?;
    if let Reach::Queues { queues, .. } = reach
        && !state.store.contact_in_chat_queues(id, queues).await?
    {
        return Err(no_contact(id));
    }
    Ok(contact)
}

/// Validation problems as a 422 with every pointer.
fn invalid(problems: Vec<ContactProblem>) -> ApiError {
    let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    let details = problems.into_iter().map(|p| FieldProblem::new(Some(p.pointer), p.reason)).collect();
    ApiError::invalid_fields(format!("the contact is not valid: {message}"), details)
}

/// Validates a draft against the setup: the core's rules, the declared fields and a known owner.
fn validate(setup: &Setup, draft: &ContactDraft) -> Result<ContactData, ApiError> {
    let unknown_owner = draft
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty() && !setup.agents.iter().any(|a| a.id.as_str() == *o))
        .map(|o| ContactProblem { pointer: "/owner".to_owned(), reason: format!("there is no agent {o}") });
    match (draft.validate(&setup.contact_fields), unknown_owner) {
        (Ok(data), None) => Ok(data),
        (Ok(_), Some(owner)) => Err(invalid(vec![owner])),
        (Err(mut problems), owner) => {
            if !problems.iter().any(|p| p.pointer == "/owner") {
                problems.extend(owner);
            }
            Err(invalid(problems))
        }
    }
}

/// Who did it, as contact events and links name them: an agent by their id, others as the audit log
/// names them.
fn by_of(who: &Principal) -> String {
    match who {
        Principal::Agent(agent) => agent.to_string(),
        other => other.actor(),
    }
}

fn changed_event(
    state: &AppState,
    contact_id: &str,
    change: ContactChange,
    who: &Principal,
) -> parley_store::rows::EventRow {
    let event = Event::ContactChanged { contact_id: contact_id.to_owned(), change, by: by_of(who) };
    event_json::row(&event, None, None, state.clock.now())
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<ContactView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Which contacts to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// A prefix of the name or e-mail (any case), or of a phone's digits (`+1 415`, `1415`).
    pub q: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Contacts in creation order, all or those a prefix matches.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = ContactList), (status = 400, description = "a limit out of range or a bad cursor", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "a phone search by someone whose queues mask numbers", body = ErrorBody)),
    security(("bearer" = ["contacts:read"])))]
pub async fn list_contacts(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_PAGE}")));
    }
    if let Some(cursor) = query.cursor.as_deref()
        && !valid_id(cursor)
    {
        return Err(ApiError::bad_request("cursor is not a next_cursor this API gave"));
    }
    let search = query.q.as_deref().and_then(SearchQuery::parse);
    let reach = Reach::of(&state, &who);
    if matches!(search, Some(SearchQuery::Phone(_))) && reach.masking() != ConsumerNumber::Full {
        return Err(ApiError::forbidden(
            "your queues hide consumers' numbers: search contacts by name or e-mail instead",
        ));
    }
    let among = match &reach {
        Reach::All => Among::All,
        Reach::Queues { queues, .. } => Among::ChatQueues(queues),
    };
    let mut rows = state.store.search_contacts(search.as_ref(), among, query.cursor.as_deref(), limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        rows.last().map(|c| c.id.clone())
    } else {
        None
    };
    let setup = state.engine.setup();
    let contacts = rows.iter().map(|c| contact_view(&setup, c, reach.masking())).collect();
    Ok(Json(ContactList { contacts, next_cursor }))
}

/// Creates a contact (admins; agents create one through their chat, `POST /api/v1/chats/{id}/contact`).
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, body = ContactView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "an external id another contact has", body = ErrorBody),
              (status = 422, description = "every problem, each with its JSON Pointer", body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn create_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<ContactView>), ApiError> {
    if !matches!(who, Principal::Admin { .. }) {
        return Err(ApiError::forbidden(
            "only admins create contacts here; an agent creates one for a chat with POST /api/v1/chats/{id}/contact",
        ));
    }
    let setup = state.engine.setup();
    let data = validate(&setup, &input.draft())?;
    let row = new_contact(data, state.clock.now());
    let event = changed_event(&state, &row.id, ContactChange::Created, &who);
    state.store.create_contact(&row, Some(&event)).await.map_err(conflict)?;
    state.bus.written();
    Ok((StatusCode::CREATED, Json(contact_view(&setup, &row, ConsumerNumber::Full))))
}

fn conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(message) => {
            ApiError::new(StatusCode::CONFLICT, crate::http::error::ErrorCode::Conflict, message)
        }
        other => other.into(),
    }
}

/// One contact (recorded in the audit log).
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = ContactView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = ["contacts:read"])))]
pub async fn get_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ContactView>, ApiError> {
    let reach = Reach::of(&state, &who);
    let contact = reached_contact(&state, &reach, &id).await?;
    record_read(&state, &who, None, &format!("contact:{id}")).await?;
    Ok(Json(contact_view(&state.engine.setup(), &contact, reach.masking())))
}

/// Changes some of a contact's fields (admins, and agents for the contacts of their chats).
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)), request_body = ContactPatch,
    responses((status = 200, body = ContactView), (status = 401, body = ErrorBody),
              (status = 403, description = "a supervisor, or an agent changing phones their queues mask", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, description = "every problem, each with its JSON Pointer", body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn patch_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Json<ContactView>, ApiError> {
    if matches!(who, Principal::Supervisor { .. }) {
        return Err(ApiError::forbidden("supervisors read contacts; agents and admins change them"));
    }
    let reach = Reach::of(&state, &who);
    let mut contact = reached_contact(&state, &reach, &id).await?;
    if patch.phones.is_some() && reach.masking() != ConsumerNumber::Full {
        return Err(ApiError::forbidden("your queues hide consumers' numbers: you cannot change a contact's phones"));
    }
    let mut draft = contact.data.to_draft();
    if let Some(name) = patch.name {
        draft.name = name;
    }
    if let Some(phones) = &patch.phones {
        draft.phones = phones.iter().map(PhoneInput::draft).collect();
    }
    if let Some(email) = patch.email {
        draft.email = email;
    }
    if let Some(company) = patch.company {
        draft.company = company;
    }
    if let Some(owner) = patch.owner {
        draft.owner = owner;
    }
    if let Some(tags) = patch.tags {
        draft.tags = tags;
    }
    if let Some(notes) = patch.notes {
        draft.notes = notes;
    }
    for (key, value) in patch.fields.unwrap_or_default() {
        match value {
            Some(v) => draft.fields.insert(key, v.input()),
            None => draft.fields.remove(&key),
        };
    }
    for (connector, value) in patch.external_ids.unwrap_or_default() {
        match value {
            Some(v) => draft.external_ids.insert(connector, v),
            None => draft.external_ids.remove(&connector),
        };
    }
    let setup = state.engine.setup();
    contact.data = validate(&setup, &draft)?;
    contact.updated_at = state.clock.now().0;
    let event = changed_event(&state, &id, ContactChange::Updated, &who);
    state.store.update_contact(&contact, &event).await.map_err(|e| match e {
        StoreError::NotFound => no_contact(&id),
        other => conflict(other),
    })?;
    state.bus.written();
    Ok(Json(contact_view(&setup, &contact, reach.masking())))
}

/// Deletes a contact (admins). Its chats stay; their links name a contact that is gone.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn delete_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if !valid_id(&id) {
        return Err(no_contact(&id));
    }
    let event = changed_event(&state, &id, ContactChange::Deleted, &who);
    state.store.delete_contact(&id, &event).await.map_err(|e| match e {
        StoreError::NotFound => no_contact(&id),
        other => other.into(),
    })?;
    state.bus.written();
    Ok(StatusCode::NO_CONTENT)
}

/// Which contact to merge into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The contact that stays.
    pub into: String,
}

/// Merges this contact into `into` (admins): its phones, tags, notes, external ids and custom values
/// move where `into` has none of its own, then it is deleted. Answers the merged contact.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", params(("id" = String, Path)), request_body = MergeInput,
    responses((status = 200, body = ContactView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "a contact merged into itself", body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn merge_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<MergeInput>,
) -> Result<Json<ContactView>, ApiError> {
    who.require_admin()?;
    if id == input.into {
        return Err(ApiError::invalid_fields(
            "a contact cannot be merged into itself",
            vec![FieldProblem::new(Some("/into".to_owned()), "name another contact")],
        ));
    }
    if !valid_id(&id) {
        return Err(no_contact(&id));
    }
    if !valid_id(&input.into) {
        return Err(ApiError::invalid_fields(
            format!("there is no contact {}", input.into),
            vec![FieldProblem::new(Some("/into".to_owned()), "not a contact id")],
        ));
    }
    let change = ContactChange::Merged { into: input.into.clone() };
    let event = changed_event(&state, &id, change, &who);
    let merged =
        state.store.merge_contacts(&id, &input.into, state.clock.now().0, &event).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("contact {id} or {} does not exist", input.into)),
            other => conflict(other),
        })?;
    state.bus.written();
    Ok(Json(contact_view(&state.engine.setup(), &merged, ConsumerNumber::Full)))
}

/// A contact that has the chat's phone, for the agent's choice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactCandidate {
    pub id: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    /// When the contact's latest chat opened.
    pub last_chat_at: Option<String>,
}

/// A chat's contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatContactView {
    /// `linked`; `pending` (several contacts have the phone: choose one, or create one); `waiting`
    /// (matched at the consumer's Nth message, `create_after_messages`); `none` (not matched yet).
    pub state: String,
    /// How it was linked: matched, created, picked, created_by_agent or manual.
    pub how: Option<String>,
    /// Who linked it: `system` or the agent's id (or the admin).
    pub by: Option<String>,
    pub contact: Option<ContactView>,
    pub record_id: Option<String>,
    /// While `pending`: the contacts to choose from, by id.
    pub candidates: Vec<ContactCandidate>,
}

async fn chat_contact_view(
    state: &AppState,
    link: Option<ChatContactRow>,
    masking: ConsumerNumber,
) -> Result<ChatContactView, ApiError> {
    let Some(link) = link else {
        return Ok(ChatContactView {
            state: "none".to_owned(),
            how: None,
            by: None,
            contact: None,
            record_id: None,
            candidates: vec![],
        });
    };
    let setup = state.engine.setup();
    let contact = match &link.contact_id {
        Some(id) => state.store.contact(id).await?.map(|c| contact_view(&setup, &c, masking)),
        None => None,
    };
    let mut candidates = Vec::new();
    for c in state.store.contacts(&link.candidates).await? {
        let last = state.store.chats_of_contact(&c.id, 1).await?;
        let last_chat_at = match last.first() {
            Some(chat) => state.store.chat(chat).await.ok().map(|chat| rfc3339(chat.opened_at)),
            None => None,
        };
        candidates.push(ContactCandidate {
            id: c.id,
            name: c.data.name,
            company: c.data.company,
            email: c.data.email,
            last_chat_at,
        });
    }
    Ok(ChatContactView {
        state: link.state,
        how: link.how,
        by: Some(link.by),
        contact,
        record_id: link.record_id,
        candidates,
    })
}

/// How the caller sees the numbers of this chat's queue.
fn chat_masking(state: &AppState, who: &Principal, queue: Option<&str>) -> ConsumerNumber {
    match who {
        Principal::Admin { .. } => ConsumerNumber::Full,
        _ => {
            let setup = state.engine.setup();
            setup
                .queues
                .iter()
                .find(|q| Some(q.id.as_str()) == queue)
                .map_or(ConsumerNumber::Hidden, |q| setup.consumer_number_of(&q.id))
        }
    }
}

/// The chat's contact, or the contacts to choose from (recorded in the audit log when it shows one).
#[utoipa::path(get, path = "/api/v1/chats/{id}/contact", tag = "contacts", params(("id" = String, Path, description = "the chat")),
    responses((status = 200, body = ChatContactView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = ["contacts:read"])))]
pub async fn chat_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChatContactView>, ApiError> {
    let chat = visible_chat(&state, &who, &chat_id(&id)?).await?;
    let link = state.store.chat_contact(&chat.id).await?;
    if let Some(contact) = link.as_ref().and_then(|l| l.contact_id.as_deref()) {
        record_read(&state, &who, Some(&chat.id), &format!("contact:{contact}")).await?;
    }
    let masking = chat_masking(&state, &who, chat.queue.as_deref());
    Ok(Json(chat_contact_view(&state, link, masking).await?))
}

/// The agent's choice: an existing contact, or a new one (which gets the chat's phone).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatContactChoice {
    /// A contact; one without the chat's phone is allowed and recorded as a manual link.
    pub contact_id: Option<String>,
    /// A new contact instead.
    pub create: Option<ContactInput>,
}

/// Links the chat to a contact: one of the candidates when several have its phone, another contact
/// (a manual link), or a new one. The chat's record then follows its queue's record policy, and
/// everything of the chat so far reaches the CRM connectors in order. Recorded in the chat's events
/// (`contact.linked` with `how` and `by`).
#[utoipa::path(post, path = "/api/v1/chats/{id}/contact", tag = "contacts", params(("id" = String, Path, description = "the chat")),
    request_body = ChatContactChoice,
    responses((status = 200, body = ChatContactView), (status = 401, body = ErrorBody),
              (status = 403, description = "a supervisor, or a chat outside the caller's queues", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "the chat is linked already", body = ErrorBody),
              (status = 422, description = "neither or both of contact_id and create, an unknown contact, or an invalid new one", body = ErrorBody)),
    security(("bearer" = ["contacts:write"])))]
pub async fn link_chat_contact(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(choice): ApiJson<ChatContactChoice>,
) -> Result<Json<ChatContactView>, ApiError> {
    if matches!(who, Principal::Supervisor { .. }) {
        return Err(ApiError::forbidden("supervisors watch chats; the agent or an admin links the contact"));
    }
    let chat = visible_chat(&state, &who, &chat_id(&id)?).await?;
    let existing = state.store.chat_contact(&chat.id).await?;
    let linked_already = |contact: Option<&str>| {
        ApiError::new(
            StatusCode::CONFLICT,
            crate::http::error::ErrorCode::Conflict,
            format!("chat {} is linked to contact {} already", chat.id, contact.unwrap_or("?")),
        )
    };
    if let Some(link) = existing.as_ref().filter(|l| l.state == "linked") {
        return Err(linked_already(link.contact_id.as_deref()));
    }
    let phone = E164::parse(&chat.consumer).map_err(|_| ApiError::internal("a stored chat has no phone number"))?;
    let setup = state.engine.setup();
    let now = state.clock.now();
    let mut write = MatchWrite { cursor: None, contact: None, link: None, record: None, events: Vec::new() };
    let (contact_id, how) = match (&choice.contact_id, &choice.create) {
        (Some(contact_id), None) => {
            let contact = if valid_id(contact_id) { state.store.contact(contact_id).await? } else { None };
            let Some(contact) = contact else {
                return Err(ApiError::invalid_fields(
                    format!("there is no contact {contact_id}"),
                    vec![FieldProblem::new(Some("/contact_id".to_owned()), "not a contact")],
                ));
            };
            let has_phone = contact.data.phones.iter().any(|p| p.number == phone);
            (contact.id, if has_phone { ContactLink::Picked } else { ContactLink::Manual })
        }
        (None, Some(input)) => {
            let mut draft = input.draft();
            if !draft.phones.iter().any(|p| E164::parse(&p.number).is_ok_and(|n| n == phone)) {
                let primary = draft.phones.is_empty();
                draft.phones.push(PhoneDraft { number: phone.as_str().to_owned(), primary });
            }
            let data = validate(&setup, &draft)?;
            let row = new_contact(data, now);
            write.events.push(changed_event(&state, &row.id, ContactChange::Created, &who));
            let id = row.id.clone();
            write.contact = Some(row);
            (id, ContactLink::CreatedByAgent)
        }
        _ => {
            return Err(ApiError::invalid_fields(
                "give either contact_id or create",
                vec![FieldProblem::new(None, "exactly one of contact_id and create")],
            ));
        }
    };
    let by = by_of(&who);
    let policy = policy_of(&setup, chat.queue.as_deref());
    let (link, record) =
        link_to(&state.store, &chat, &contact_id, how, &by, policy, now).await.map_err(ApiError::internal)?;
    let linked = Event::ContactLinked {
        contact_id: contact_id.clone(),
        record_id: link.record_id.clone().unwrap_or_default(),
        how,
        by: by.clone(),
    };
    write.events.push(event_json::row_of_stored(&linked, &chat, now));
    write.link = Some(link);
    write.record = Some(record);
    if !state.store.write_match(&write).await.map_err(conflict)? {
        let now_linked = state.store.chat_contact(&chat.id).await?;
        return Err(linked_already(now_linked.as_ref().and_then(|l| l.contact_id.as_deref())));
    }
    // The events were written outside the engine's batches: consoles hear of them now.
    state.bus.written();
    tracing::info!(chat = %chat.id, contact = contact_id, how = how.as_str(), by, "chat linked to a contact");
    let link = state.store.chat_contact(&chat.id).await?;
    let masking = chat_masking(&state, &who, chat.queue.as_deref());
    Ok(Json(chat_contact_view(&state, link, masking).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_ids_are_ct_and_32_hex_digits() {
        assert!(valid_id("CT0192a3b4c5d6e7f8091a2b3c4d5e6f70"));
        assert!(!valid_id("CT0192"));
        assert!(!valid_id("XX0192a3b4c5d6e7f8091a2b3c4d5e6f70"));
        assert!(!valid_id("CT0192a3b4c5d6e7f8091a2b3c4d5e6fzz"));
    }

    #[test]
    fn contacts_the_strictest_masking_is_the_least_open() {
        let all = [ConsumerNumber::Full, ConsumerNumber::LastFour, ConsumerNumber::Full];
        assert_eq!(all.into_iter().min_by_key(|m| openness(*m)), Some(ConsumerNumber::LastFour));
    }

    #[test]
    fn contacts_number_fields_come_out_as_numbers() {
        let declared =
            vec![FieldDef { key: "size".into(), label: "Size".into(), kind: FieldKind::Number, choices: vec![] }];
        assert_eq!(field_value(&declared, "size", "3.5"), serde_json::json!(3.5));
        assert_eq!(field_value(&declared, "plan", "3.5"), serde_json::json!("3.5"));
    }

    #[test]
    fn contacts_a_patch_tells_null_from_absent() {
        let p: ContactPatch = serde_json::from_str(r#"{"name": null, "company": "Acme"}"#).unwrap();
        assert_eq!(p.name, Some(None));
        assert_eq!(p.company, Some(Some("Acme".to_owned())));
        assert_eq!(p.email, None);
    }

    #[test]
    fn contacts_phones_are_given_as_strings_or_objects() {
        let c: ContactInput =
            serde_json::from_str(r#"{"phones": ["+14155550100", {"number": "+14155550101", "primary": true}]}"#)
                .unwrap();
        let d = c.draft();
        assert_eq!(d.phones[0], PhoneDraft { number: "+14155550100".into(), primary: false });
        assert!(d.phones[1].primary);
    }
}
