package mapping

import "fmt"

// SchemaError is the error of opening a store whose schema this xmppgw
// cannot work with.
type SchemaError struct {
	Have int // the store's schema: the number of its last migration
	Want int // this xmppgw's: the number of its last migration
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("mapping: the store's schema is %d, newer than this xmppgw's %d: run a newer release", e.Have, e.Want)
}
