"""Side-by-side benchmark of xmppd, Prosody and ejabberd driven by tsung (issue 8)."""
