"""The registry service. Owner: the TĐKT standing body (Phòng/Sở Nội vụ). Owns units and their history, emulation clusters and blocks, movements with their criteria, and registrations."""
