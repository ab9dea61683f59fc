//! Microsoft 365 through Microsoft Graph v1.0 and the Office 365 Management Activity API.
