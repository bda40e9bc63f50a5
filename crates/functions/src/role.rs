//! Which function a start of the one executable serves: `DMD_FUNCTION`, set by the
//! template for every function (unset means the archiver).

use std::fmt;

/// The variable that names the function.
pub const VARIABLE: &str = "DMD_FUNCTION";

/// A function of the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The stream's batches to the archive (`ArchiverFunction`).
    Archiver,
    /// The batches the source mapping gave up on, from the failure queue (`RecovererFunction`).
    Recoverer,
    /// The Parquet copy of the partitions (`CompactorFunction`).
    Compactor,
    /// The archive against its stream, on a schedule (`AuditorFunction`).
    Auditor,
}

/// Every role, in the order the error message names them.
pub const ROLES: [Role; 4] = [Role::Archiver, Role::Recoverer, Role::Compactor, Role::Auditor];

/// `DMD_FUNCTION` names no function.
#[derive(Debug, thiserror::Error)]
#[error("invalid {VARIABLE}: {0:?} is not a function of dmd-pipeline (archiver, recoverer, compactor or auditor)")]
pub struct UnknownRole(pub String);

impl Role {
    /// The function's name: its binary, its log lines' prefix, its `DMD_FUNCTION` value.
    pub fn name(self) -> &'static str {
        match self {
            Role::Archiver => "archiver",
            Role::Recoverer => "recoverer",
            Role::Compactor => "compactor",
            Role::Auditor => "auditor",
        }
    }

    /// The role a value of `DMD_FUNCTION` names (surrounding blanks and case aside); an
    /// empty value is the archiver, as an unset one is.
    pub fn parse(value: &str) -> Result<Role, UnknownRole> {
        let wanted = value.trim();
        if wanted.is_empty() {
            return Ok(Role::Archiver);
        }
        ROLES.into_iter().find(|r| r.name().eq_ignore_ascii_case(wanted)).ok_or_else(|| UnknownRole(value.into()))
    }

    /// The role of this process's `DMD_FUNCTION`.
    pub fn from_env() -> Result<Role, UnknownRole> {
        match std::env::var(VARIABLE) {
            Ok(v) => Role::parse(&v),
            Err(std::env::VarError::NotPresent) => Ok(Role::Archiver),
            Err(std::env::VarError::NotUnicode(v)) => Err(UnknownRole(v.to_string_lossy().into_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_is_read_back_from_its_name() {
        for role in ROLES {
            assert_eq!(Role::parse(role.name()).unwrap(), role);
            assert_eq!(Role::parse(&format!(" {} ", role.name().to_uppercase())).unwrap(), role);
        }
    }

    #[test]
    fn empty_is_the_archiver_and_anything_else_is_refused() {
        assert_eq!(Role::parse("").unwrap(), Role::Archiver);
        assert_eq!(Role::parse("  ").unwrap(), Role::Archiver);
        for bad in ["archive", "audit", "archiver,recoverer", "dmd-function"] {
            let e = Role::parse(bad).unwrap_err().to_string();
            assert!(e.contains("DMD_FUNCTION") && e.contains(&format!("{bad:?}")), "{e}");
            assert!(e.contains("archiver, recoverer, compactor or auditor"), "{e}");
        }
    }
}
