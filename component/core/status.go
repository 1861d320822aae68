package core

// Status is what an operator reads of a gateway at one moment: its
// connection, its network, and its counters since it started.
type Status struct {
	Connected bool   // the component session is up
	Reachable bool   // the foreign network can be reached
	Why       string // why it cannot, when it cannot

	Sent       int64 // messages the provider accepted
	Received   int64 // messages from the provider
	Failed     int64 // messages that failed for good
	Retries    int64 // sends retried
	Refused    int64 // stanzas answered with an error
	OverQuota  int64 // messages refused over a user's hourly limit
	Duplicates int64 // provider events received twice, ignored
	Unowned    int64 // provider messages reaching nobody
}
