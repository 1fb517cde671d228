"""The registry's event types that the other services read (their copies of units, movements and
registrations), named once. The registry declares them with their schemas; the contract test of
each consumer's receive operations checks that every name here is described."""

UNIT_TYPES = [f"vn.tdkt.registry.unit.{n}.v1" for n in ("established", "updated", "renamed", "moved", "merged", "split", "dissolved")]
MOVEMENT_TYPES = [f"vn.tdkt.registry.movement.{n}.v1" for n in ("launched", "amended", "closed", "cancelled")]
REGISTRATION_TYPES = [f"vn.tdkt.registry.registration.{n}.v1" for n in ("submitted", "amended")]
