//! Accounts and roles, and what each role may see.

use serde::{Deserialize, Serialize};

use super::fields::{FieldError, bounded_text};
use super::ids::UserId;
use super::work::Status;

/// Shortest accepted password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest accepted password, in bytes (argon2 takes any length; this bounds the work).
pub const PASSWORD_MAX_BYTES: usize = 1_024;

/// What a user may do. A user may hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The network culture team: creates works, uploads, edits its own works.
    Contributor,
    /// Reviews and signs off.
    Reviewer,
    /// Searches and reads the archive.
    Staff,
    /// Users and everything.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Contributor, Role::Reviewer, Role::Staff, Role::Admin];

    /// The API and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Contributor => "contributor",
            Role::Reviewer => "reviewer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// Parses the API spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw.trim())
    }
}

/// Parses a role list: at least one role, each known, duplicates dropped, sorted.
pub fn parse_roles(raw: &[String]) -> Result<Vec<Role>, FieldError> {
    let mut roles = Vec::with_capacity(raw.len());
    for (index, name) in raw.iter().enumerate() {
        let role = Role::parse(name).ok_or_else(|| {
            FieldError::invalid(format!("roles[{index}]"), "must be one of contributor, reviewer, staff, admin")
        })?;
        roles.push(role);
    }
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(FieldError::required("roles"));
    }
    Ok(roles)
}

/// A login name: 3–32 characters of ASCII letters, digits, `.`, `_` or `-`, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses and lowercases a username.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim().to_ascii_lowercase();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.is_empty() {
            return Err(FieldError::required("username"));
        }
        if name.len() > 32 {
            return Err(FieldError::too_long("username", 32, crate::domain::fields::LimitUnit::Chars));
        }
        if name.len() < 3 || !name.chars().all(allowed) {
            return Err(FieldError::invalid(
                "username",
                "must be 3 to 32 characters of letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self(name))
    }

    /// The lowercase name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 8 characters, at most 1 KiB.
pub fn parse_new_password(raw: &str) -> Result<&str, FieldError> {
    if raw.chars().count() < PASSWORD_MIN_CHARS {
        return Err(FieldError::invalid("password", format!("must be at least {PASSWORD_MIN_CHARS} characters")));
    }
    if raw.len() > PASSWORD_MAX_BYTES {
        return Err(FieldError::too_long("password", PASSWORD_MAX_BYTES, crate::domain::fields::LimitUnit::Bytes));
    }
    Ok(raw)
}

/// A display name such as 张警官: 1–100 characters.
pub fn parse_display_name(raw: &str) -> Result<String, FieldError> {
    bounded_text("display_name", raw, 100)
}

/// An account as an admin (or the operator at the console) asks for it.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
}

/// A new account, checked: the display name defaults to the username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: Username,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

impl NewUser {
    /// Checks the username, the password, the roles and the display name, in that order.
    pub fn parse(input: NewUserInput) -> Result<Self, FieldError> {
        let username = Username::parse(&input.username)?;
        parse_new_password(&input.password)?;
        let roles = parse_roles(&input.roles)?;
        let display_name = match input.display_name.as_deref() {
            Some(name) if !name.trim().is_empty() => parse_display_name(name)?,
            _ => username.as_str().to_owned(),
        };
        Ok(Self { username, password: input.password, display_name, roles })
    }
}

/// What an admin may change on an account, as sent; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct UserUpdateInput {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// Clears the failed-login count, ending a lockout at once.
    pub unlock: Option<bool>,
}

/// A change to an account, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub disabled: Option<bool>,
    pub unlock: bool,
}

impl UserUpdate {
    /// Checks the roles, the display name and the password, in that order.
    pub fn parse(input: UserUpdateInput) -> Result<Self, FieldError> {
        let roles = input.roles.as_deref().map(parse_roles).transpose()?;
        let display_name = input.display_name.as_deref().map(parse_display_name).transpose()?;
        let password = input.password.as_deref().map(parse_new_password).transpose()?.map(str::to_owned);
        Ok(Self { display_name, password, roles, disabled: input.disabled, unlock: input.unlock == Some(true) })
    }
}

/// Which works a user may read, decided once from their roles and applied inside queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Reviewers and admins: every work.
    All,
    /// Contributors: their own works, plus the public archive.
    OwnAndPublic(UserId),
    /// Staff: the public archive only.
    Public,
    /// A user with no reading role.
    Nothing,
}

impl Visibility {
    /// The widest visibility any of the roles grants.
    pub fn for_roles(user: &UserId, roles: &[Role]) -> Self {
        if roles.iter().any(|role| matches!(role, Role::Admin | Role::Reviewer)) {
            Visibility::All
        } else if roles.contains(&Role::Contributor) {
            Visibility::OwnAndPublic(user.clone())
        } else if roles.contains(&Role::Staff) {
            Visibility::Public
        } else {
            Visibility::Nothing
        }
    }

    /// Whether a work with this creator, assignees (user ids) and status is visible.
    pub fn allows(&self, created_by: &UserId, assignees: &[UserId], status: Status) -> bool {
        match self {
            Visibility::All => true,
            Visibility::OwnAndPublic(user) => user == created_by || assignees.contains(user) || status.is_public(),
            Visibility::Public => status.is_public(),
            Visibility::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_restricted() {
        assert_eq!(Username::parse(" Zhang.San ").unwrap().as_str(), "zhang.san");
        assert!(Username::parse("张三").is_err());
        assert!(Username::parse("ab").is_err());
        assert_eq!(Username::parse(&"a".repeat(33)).unwrap_err().code, "field-too-long");
    }

    #[test]
    fn roles_must_be_known_and_at_least_one() {
        let roles = parse_roles(&["reviewer".into(), "contributor".into(), "reviewer".into()]).unwrap();
        assert_eq!(roles, vec![Role::Contributor, Role::Reviewer]);
        assert_eq!(parse_roles(&[]).unwrap_err().code, "field-required");
        assert_eq!(parse_roles(&["root".into()]).unwrap_err().field, "roles[0]");
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(parse_new_password("1234567").is_err());
        assert!(parse_new_password("12345678").is_ok());
    }

    #[test]
    fn visibility_is_the_widest_role() {
        let me = UserId::generate();
        assert_eq!(Visibility::for_roles(&me, &[Role::Staff, Role::Reviewer]), Visibility::All);
        assert_eq!(Visibility::for_roles(&me, &[Role::Staff, Role::Contributor]), Visibility::OwnAndPublic(me.clone()));
        assert_eq!(Visibility::for_roles(&me, &[Role::Staff]), Visibility::Public);
        assert_eq!(Visibility::for_roles(&me, &[]), Visibility::Nothing);
    }

    #[test]
    fn contributors_see_their_own_drafts_but_not_others() {
        let me = UserId::generate();
        let visibility = Visibility::OwnAndPublic(me.clone());
        let someone_else = UserId::generate();
        assert!(visibility.allows(&me, &[], Status::Draft));
        assert!(!visibility.allows(&someone_else, &[], Status::Draft));
        assert!(
            visibility.allows(&someone_else, std::slice::from_ref(&me), Status::Draft),
            "assigned works are visible"
        );
        assert!(visibility.allows(&someone_else, &[], Status::Published));
        assert!(!Visibility::Public.allows(&me, std::slice::from_ref(&me), Status::Submitted));
    }
}
