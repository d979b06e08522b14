"""Second factor (issue 7 item 2): TOTP devices (django-otp), enrolment with a QR code, a
verification step after the password, and the per-role policy the city administrator sets."""
