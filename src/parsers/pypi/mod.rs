//! PyPI: requirements files, lockfiles (poetry, Pipfile, pdm, uv, pylock),
//! `pyproject.toml`, and installed `*.dist-info` / `*.egg-info` metadata.

pub mod dist_info;
pub mod lock;
pub mod pdm;
pub mod pep508;
pub mod pipfile;
pub mod poetry;
pub mod pylock;
pub mod pyproject;
pub mod req_lines;
pub mod requirements;
pub mod uv;
