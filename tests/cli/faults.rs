//! Faults a real server will not produce on demand, played by a scripted server.
