//! The generated project passes its own checks (Django, pytest, npm).
