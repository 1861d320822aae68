# xmppgw: an XMPP gateway (XEP-0114 component) to SMS and other networks.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# A count of executions, not a duration: with a duration, Go 1.26's fuzzing
# coordinator can fail a target with "context deadline exceeded" at the end
# of the window on a busy machine (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 30000x

.PHONY: build deps demo-deps test unit clients faults fuzz fuzz-corpus bench demo vet clean

build: ## bin/xmppgw
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/xmppgw ./cmd/xmppgw

deps: ## install the Debian and npm packages the tests use (prosody, ejabberd, postgresql, slixmpp, sendxmpp, chromium, profanity, tmux, alertmanager; Debian's nodejs and npm only if npm is not on PATH; converse.js, playwright-core)
	bash scripts/install-deps.sh test

demo-deps: ## install only what the demo uses (prosody, alertmanager)
	bash scripts/install-deps.sh demo

vet:
	$(GO) vet -tags integration ./...

unit: ## the unit tests alone: no XMPP server, PostgreSQL or network needed (about a minute)
	$(GO) test -count=1 ./...

test: deps vet ## install what is needed, then run every test (the integration tag: real Prosody, ejabberd, PostgreSQL and end-user clients) and bounded fuzzing
	XMPPGW_FAULT_TABLE=$(CURDIR)/.faults.txt XMPPGW_CLIENT_OUT=$(CURDIR)/.clients $(GO) test -tags integration -count=1 -timeout 20m ./...
	@cat .faults.txt
	$(MAKE) fuzz

clients: deps ## only the end-user client tests (Converse.js in Chromium, Profanity in tmux); screenshots and logs in .clients/
	XMPPGW_CLIENT_OUT=$(CURDIR)/.clients $(GO) test -tags integration -count=1 -run '^Test(Converse|Profanity)$$' ./cmd/xmppgw/

faults: ## only the fault suite, with its table
	XMPPGW_FAULT_TABLE=$(CURDIR)/.faults.txt $(GO) test -tags integration -count=1 -run '^TestFaultSuite$$' ./cmd/xmppgw/
	@cat .faults.txt

fuzz: ## run each fuzz target for FUZZTIME executions
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./configs/
	$(GO) test -run='^$$' -fuzz='^FuzzParseAddr$$' -fuzztime=$(FUZZTIME) ./transports/sms/
	$(GO) test -run='^$$' -fuzz='^FuzzInboundWebhook$$' -fuzztime=$(FUZZTIME) ./transports/sms/
	$(GO) test -run='^$$' -fuzz='^FuzzHandleStanza$$' -fuzztime=$(FUZZTIME) ./component/
	$(GO) test -run='^$$' -fuzz='^FuzzAddrOf$$' -fuzztime=$(FUZZTIME) ./mapping/
	$(GO) test -run='^$$' -fuzz='^FuzzWebhookUpdate$$' -fuzztime=$(FUZZTIME) ./transports/telegram/
	$(GO) test -run='^$$' -fuzz='^FuzzParseChatID$$' -fuzztime=$(FUZZTIME) ./transports/telegram/
	$(GO) test -run='^$$' -fuzz='^FuzzAlertPayload$$' -fuzztime=$(FUZZTIME) ./component/alerts/
	$(GO) test -run='^$$' -fuzz='^FuzzParseAnswer$$' -fuzztime=$(FUZZTIME) ./component/alerts/
	$(GO) test -run='^$$' -fuzz='^FuzzUserInput$$' -fuzztime=$(FUZZTIME) ./transports/telegramuser/

fuzz-corpus: ## keep what fuzzing found interesting in testdata/fuzz (commit it)
	bash scripts/keep-fuzz-corpus.sh

bench: deps build ## performance figures behind Prosody and ejabberd, each a ratio to a baseline measured in the same run (at most 10 minutes)
	$(GO) test -run='^$$' -bench=. -benchtime=3000x ./component/ ./mapping/ | tee .bench-micro.txt
	timeout 600 $(GO) run ./cmd/xmppgw-bench -gateway bin/xmppgw -micro .bench-micro.txt

demo: demo-deps build ## the on-call loop on loopback: an Alertmanager alert to a phone, "ack" by SMS, everyone told, no escalation; then SMS and Telegram chats, and a user's own Telegram account
	$(GO) run ./cmd/xmppgw-demo -gateway bin/xmppgw

clean:
	rm -rf bin .demo .bench .bench-micro.txt .faults.txt .clients
