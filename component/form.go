package component

import (
	"encoding/xml"
	"strings"
)

// dataForm is an XEP-0004 data form, sent and received.
type dataForm struct {
	XMLName      xml.Name    `xml:"jabber:x:data x"`
	Type         string      `xml:"type,attr"`
	Title        string      `xml:"title,omitempty"`
	Instructions string      `xml:"instructions,omitempty"`
	Fields       []formField `xml:"field"`
}

type formField struct {
	Var      string       `xml:"var,attr,omitempty"`
	Type     string       `xml:"type,attr,omitempty"`
	Label    string       `xml:"label,attr,omitempty"`
	Required *struct{}    `xml:"required,omitempty"`
	Values   []string     `xml:"value"`
	Options  []formOption `xml:"option"`
}

type formOption struct {
	Label string `xml:"label,attr,omitempty"`
	Value string `xml:"value"`
}

// values returns the submitted values of field name, trimmed, without
// empty ones; nil if the form or the field is missing.
func (f *dataForm) values(name string) []string {
	if f == nil {
		return nil
	}
	var vs []string
	for _, fl := range f.Fields {
		if fl.Var != name {
			continue
		}
		for _, v := range fl.Values {
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
	}
	return vs
}

// value returns the first submitted value of field name, or "".
func (f *dataForm) value(name string) string {
	if vs := f.values(name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
