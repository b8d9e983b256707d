# Sourced by scripts/serve and scripts/manage, which run the development setup: DEBUG is true
# unless the environment or .env sets it. The settings read .env themselves, under real
# environment variables (biosync/settings.py), so nothing else is exported here.
if [ -z "${DEBUG:-}" ] && ! grep -qsE '^[[:space:]]*(export[[:space:]]+)?DEBUG=[^[:space:]]' .env; then
  export DEBUG=true
fi
