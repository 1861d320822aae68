#!/usr/bin/env bash
# install-deps.sh [--dry-run] [test|demo] installs the Debian packages that
# `make test` or `make demo` needs.
#
# test (the default, `make deps`): real XMPP servers (prosody, with
# prosody-modules for mod_privilege, and ejabberd), two third-party clients
# (python3-slixmpp, sendxmpp), PostgreSQL for the shared store, the
# end-user clients' parts (chromium for Converse.js, profanity, tmux), and
# Prometheus Alertmanager for the on-call tests; Debian's nodejs and npm
# only when npm is not on PATH (an existing Node.js and npm are used as
# they are, never replaced; with node but no npm, only npm is added). Then
# it installs the npm packages pinned in
# internal/clienttest/web/package-lock.json (converse.js, playwright-core).
#
# demo (`make demo`): only what cmd/xmppgw-demo starts, prosody and
# prometheus-alertmanager; no npm.
#
# --dry-run prints what would be installed and installs nothing.
# It is idempotent: packages already installed are left alone and
# `apt-get update` only runs when something is missing. Safe without stdin (CI).
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# is_installed PKG: true if dpkg reports the package as installed.
is_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
	[[ "$status" == "installed" ]]
}

# has_commands PKG: true if the package's main commands are on PATH.
has_commands() {
	case "$1" in
	prosody) command -v prosody >/dev/null 2>&1 && command -v prosodyctl >/dev/null 2>&1 ;;
	prosody-modules) [[ -f /usr/lib/prosody/modules/mod_privilege/mod_privilege.lua ]] ;;
	ejabberd) command -v ejabberdctl >/dev/null 2>&1 ;;
	postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ;;
	sendxmpp) command -v sendxmpp >/dev/null 2>&1 ;;
	python3-slixmpp) /usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 ;;
	chromium) [[ -x /usr/bin/chromium ]] ;;
	profanity) command -v profanity >/dev/null 2>&1 ;;
	tmux) command -v tmux >/dev/null 2>&1 ;;
	prometheus-alertmanager) command -v prometheus-alertmanager >/dev/null 2>&1 ;;
	nodejs) command -v node >/dev/null 2>&1 ;;
	npm) command -v npm >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

dry_run=0
if [[ "${1:-}" == "--dry-run" ]]; then
	dry_run=1
	shift
fi
profile="${1:-test}"
case "$profile" in
test)
	PACKAGES=(prosody prosody-modules ejabberd python3-slixmpp sendxmpp postgresql chromium profanity tmux prometheus-alertmanager)
	with_npm=1
	if ! command -v npm >/dev/null 2>&1; then
		if command -v node >/dev/null 2>&1; then
			log "npm not on PATH (node is: $(command -v node)): adding Debian's npm"
			PACKAGES+=(npm)
		else
			log "npm not on PATH: adding Debian's nodejs and npm"
			PACKAGES+=(nodejs npm)
		fi
	fi
	;;
demo)
	PACKAGES=(prosody prometheus-alertmanager)
	with_npm=0
	;;
*) die "usage: install-deps.sh [--dry-run] [test|demo]" ;;
esac

missing=()
for pkg in "${PACKAGES[@]}"; do
	if command -v dpkg-query >/dev/null 2>&1 && is_installed "$pkg" && has_commands "$pkg"; then
		log "$pkg: already installed"
	elif ! command -v dpkg-query >/dev/null 2>&1 && has_commands "$pkg"; then
		log "$pkg: found on PATH (no dpkg)"
	else
		log "$pkg: missing"
		missing+=("$pkg")
	fi
done

# npm_packages installs the web client's npm packages, exactly as locked
# (test only).
npm_packages() {
	((with_npm)) || return 0
	local web
	web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/internal/clienttest/web"
	# npm ci writes node_modules/.package-lock.json: newer than the lockfile
	# means installed from it.
	if [[ "$web/node_modules/.package-lock.json" -nt "$web/package-lock.json" ]]; then
		log "npm packages: already installed"
		return
	fi
	if ((dry_run)); then
		log "would run: npm ci in $web"
		return
	fi
	command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js and npm"
	log "npm packages: installing from $web/package-lock.json"
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error </dev/null) || die "npm ci failed"
}

if ((${#missing[@]} == 0)); then
	log "all Debian packages present"
	npm_packages
	exit 0
fi
if ((dry_run)); then
	log "would install: ${missing[*]}"
	npm_packages
	exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
	die "apt-get not found; install ${missing[*]} by hand"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo -n) # -n: never prompt, there may be no terminal (CI)
	else
		die "not root and sudo not available; cannot install ${missing[*]}"
	fi
fi

export DEBIAN_FRONTEND=noninteractive
run() {
	log "running: $*"
	"$@" </dev/null
}
run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
	die "apt-get update failed"
run "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	die "apt-get install ${missing[*]} failed"

for pkg in "${missing[@]}"; do
	has_commands "$pkg" || die "$pkg was installed but its commands are still not usable"
done
log "installed: ${missing[*]}"
npm_packages
