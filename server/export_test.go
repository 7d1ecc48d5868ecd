package server

// ResetAuthFailures forgets every key's and network's failed secrets, so that
// tests of refusals are not slowed down by each other.
func (s *Server) ResetAuthFailures() {
	s.failures.mu.Lock()
	clear(s.failures.buckets)
	s.failures.mu.Unlock()
}
