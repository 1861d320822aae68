// Package core is the contract between the gateway core (package
// component: intake, dispatch lanes, the sink) and the concern packages
// that handle one part of XMPP each (MUC, vCards and avatars, ad-hoc
// commands...). A concern package registers a Module in init; the core
// builds each registered module for every gateway, with itself as the
// Core, and routes stanzas to the module's routes. A module reaches the
// core only through Core, and no module reaches into another's state.
//
// Lifecycle, in order: Register (init) -> Module.New (component.New, no
// side effects) -> routes served while the component is connected ->
// goroutines started with Core.Go are waited for when the gateway stops.
package core
