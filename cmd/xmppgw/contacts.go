package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/emersion/go-vcard"
	"mellium.im/xmpp/jid"

	"xmppgw/component"
	"xmppgw/component/contacts"
	"xmppgw/configs"
	"xmppgw/mapping"
	"xmppgw/transports"
)

const contactsUsage = `usage:
  xmppgw contacts import -config FILE FILE.vcf   add the names of a vCard 3 or 4 file's phone numbers
  xmppgw contacts list   -config FILE            list the address book: the config's names, then the imported ones
`

// cmdContacts imports names into the address book, or lists it. A running
// gateway reads imported names within 30 seconds.
func cmdContacts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return storeCommand{name: "contacts", usage: contactsUsage, arity: map[string]int{"import": 1, "list": 0},
		run: func(ctx context.Context, verb string, args []string, cfg *configs.Config, store *mapping.Store, stdout io.Writer) error {
			if verb == "list" {
				return listContacts(ctx, cfg, store, stdout)
			}
			return importContacts(ctx, cfg, store, args[0], stdout)
		},
	}.main(ctx, args, stdout, stderr)
}

// importContacts reads file's vCards and stores a name for each phone
// number, read as the first SMS transport reads numbers.
func importContacts(ctx context.Context, cfg *configs.Config, store *mapping.Store, file string, stdout io.Writer) error {
	tr, err := smsTransport(cfg, store)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return usageError{err.Error()}
	}
	defer f.Close()
	names, skipped, err := readVCards(f, tr)
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v", file, err)}
	}
	if err := store.Contacts().Import(ctx, names); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d numbers from %s", len(names), file)
	if len(skipped) > 0 {
		fmt.Fprintf(stdout, "; skipped: %s", strings.Join(skipped, "; "))
	}
	fmt.Fprintln(stdout)
	return nil
}

// readVCards returns a name for each phone number of r's cards, its key
// the number as tr reads it, and what it skipped and why.
func readVCards(r io.Reader, tr transports.Transport) (map[string]string, []string, error) {
	names := map[string]string{}
	var skipped []string
	dec := vcard.NewDecoder(r)
	for n := 1; ; n++ {
		card, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("card %d: %v", n, err)
		}
		name := cardName(card)
		if name == "" {
			skipped = append(skipped, fmt.Sprintf("card %d has no name", n))
			continue
		}
		tels := card.Values(vcard.FieldTelephone)
		if len(tels) == 0 {
			skipped = append(skipped, fmt.Sprintf("%s has no phone number", name))
		}
		for _, tel := range tels {
			a, err := tr.ParseAddr(strings.TrimPrefix(tel, "tel:"))
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			names[string(a)] = name
		}
	}
	return names, skipped, nil
}

// cardName is a card's FN, or its N as "given family".
func cardName(c vcard.Card) string {
	name := oneLine(c.PreferredValue(vcard.FieldFormattedName))
	if name == "" {
		if n := c.Name(); n != nil {
			name = oneLine(n.GivenName + " " + n.FamilyName)
		}
	}
	if r := []rune(name); len(r) > configs.MaxContactName {
		name = string(r[:configs.MaxContactName])
	}
	return name
}

// oneLine is s on one line, its runs of white space one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// smsTransport builds the first SMS transport of cfg, to read numbers.
func smsTransport(cfg *configs.Config, store *mapping.Store) (transports.Transport, error) {
	for _, tc := range cfg.Transports {
		typ, _ := transports.Lookup(tc.Type)
		if typ.Identity.Gateway != "sms" {
			continue
		}
		return typ.New(transports.Params{Name: tc.Name, Domain: tc.Domain, State: store.KV(tc.Name),
			Logger: slog.New(slog.DiscardHandler)}, tc.Settings)
	}
	return nil, usageError{"the config has no SMS transport to read phone numbers with"}
}

func listContacts(ctx context.Context, cfg *configs.Config, store *mapping.Store, stdout io.Writer) error {
	imported, err := store.Contacts().Names(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tNAME\tFROM")
	for _, k := range slices.Sorted(maps.Keys(cfg.Contacts)) {
		fmt.Fprintf(w, "%s\t%s\tconfig\n", k, cfg.Contacts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(imported)) {
		fmt.Fprintf(w, "%s\t%s\timported\n", k, imported[k])
	}
	return w.Flush()
}

// loadAddressBook gives book the config's names, their keys read by the
// gateways' transports (a number stays a number; a contact's JID is made
// canonical), and reads the store's. Two keys the transport reads as one
// contact are refused, as check refuses two spellings of one JID: either
// name would be kept.
func loadAddressBook(ctx context.Context, book *contacts.Book, cfg *configs.Config, gws []*component.Gateway) error {
	static := map[string]string{}
	first := map[string]string{} // book key -> the config's key read as it
	for _, k := range configs.ContactKeys(cfg.Contacts, cfg.ContactLines) {
		key, err := contactKey(k, gws)
		if err != nil {
			return fmt.Errorf("%s: contacts: %q: %v", cfg.File, k, err)
		}
		if prev, dup := first[key]; dup {
			return fmt.Errorf("%s:%d: contacts.%s: %s", cfg.File, cfg.ContactLines[k], k, configs.SameContact(prev, cfg.ContactLines[prev]))
		}
		first[key] = k
		static[key] = cfg.Contacts[k]
	}
	book.SetStatic(static)
	return book.Load(ctx)
}

// contactKey is k as the address book keys it: a number as it is, a
// contact's JID with its address as its transport reads it.
func contactKey(k string, gws []*component.Gateway) (string, error) {
	if strings.HasPrefix(k, "+") && !strings.Contains(k, "@") {
		return k, nil
	}
	j, err := jid.Parse(k)
	if err != nil {
		return "", err
	}
	for _, g := range gws {
		if g.Domain().Domainpart() != j.Domainpart() {
			continue
		}
		a, err := g.Transport().ParseAddr(mapping.AddrOf(j))
		if err != nil {
			return "", err
		}
		c, err := mapping.ContactJID(a, j.Domainpart())
		if err != nil {
			return "", err
		}
		return c.String(), nil
	}
	return "", errors.New("no transport has this domain")
}
