//! RFC 6121: XMPP instant messaging and presence.

// §8.5: delivery of stanzas to local accounts.
pub mod delivery;
// §4: presence broadcast, directed presence, probes, priority.
pub mod presence;
// §2: roster get/set/push, with roster versioning.
pub mod roster;
// §3 and Appendix A: presence subscription states and transitions.
pub mod subscription;
