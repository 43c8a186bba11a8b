"""The test personas' names. Kasm integrations name users by e-mail address, with `+`, `'` and
letters of other alphabets, so the personas do too: every name-derived Docker name, cookie,
label and page is exercised with them."""

ALICE = "alice@example.com"
CAROL = "Zoë.Müller@example.de"
DAVE = "o'brien+test@example.co.uk"
PASSWORDS = {ALICE: "alice-password-1", CAROL: "carol-password-1", DAVE: "dave-password-1"}
