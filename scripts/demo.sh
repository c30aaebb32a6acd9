#!/usr/bin/env bash
# The main job: set up Quanta in .venv, build the fashion-retail reference mesh from freshly
# generated systems of record, and show it: status, SLOs, SQL over the products, the CRM
# managers' weekly report, a file export and the interaction map; then serve it over HTTP until
# Ctrl-C (QUANTA_DEMO_SERVE=0 stops before serving; QUANTA_DEMO_PORT picks the HTTP port, default 8765,
# QUANTA_DEMO_SQL_PORT the SQL port, default 15432).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[serve]'
q=.venv/bin/quanta
demo=.quanta-demo
mesh=$demo/fashion-retail
rm -rf "$demo"
mkdir -p "$demo"
# Every read and every access change is audited, chained by this key (a fresh demo, a fresh key).
export QUANTA_AUDIT_KEY="${QUANTA_AUDIT_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}"
cp -r examples/fashion-retail "$mesh"
rm -rf "$mesh/systems" "$mesh/.quanta"
$q example fashion-retail generate --scale "${QUANTA_DEMO_SCALE:-0.1}" --seed 42 --end today \
  --out "$mesh/systems"    # a two-year history up to today, so freshness objectives hold
$q validate "$mesh"
$q design check --mesh "$mesh"
$q plan "$mesh"
$q build "$mesh"
$q build "$mesh"                # a second build is a no-op
$q status "$mesh"
$q show customer-relations.customer-lifetime-value --mesh "$mesh"
$q slo --mesh "$mesh"
echo "Audience segments (use case 4), the largest consenting cells:"
$q query "select value_segment, gender, age_band, country, count(*) as customers, round(sum(clv_12m)) as clv_12m
  from customer_relations.customer_lifetime_value where marketing_consent
  group by all order by clv_12m desc limit 8" --mesh "$mesh"
echo "Return rates by category and size (use case 3), the worst first:"
$q query "select category, size, sum(units_sold) as sold, round(sum(units_returned) / sum(units_sold), 3) as rate
  from merchandising.return_rates group by all having sold >= 100 order by rate desc limit 8" --mesh "$mesh"
echo "Recommendations for one customer (use case 2):"
$q query "select rank, sku, round(score, 3) as score, reason from marketing.product_recommendations
  where customer_id = 'C0000001' order by rank" --mesh "$mesh"
$q report customer-relations.customer-lifetime-value weekly-report --mesh "$mesh" --out "$demo/clv-weekly-report.html"
$q export marketing.product-recommendations --format csv --mesh "$mesh" --out "$demo/product-recommendations.csv"
$q design map --mesh "$mesh" --format svg --output "$demo/interaction-map.svg"
echo "Open $demo/clv-weekly-report.html (use case 1) and $demo/interaction-map.svg in a browser."

# Serving: two principals of the reference policies, a token each, and the server.
$q access principal add carla --role crm-managers --attr country=DE --display-name "Carla (CRM, Germany)" --mesh "$mesh"
$q access principal add svc-marketing-backend --service --mesh "$mesh"
carla=$($q access token create carla --days 1 --mesh "$mesh" 2>/dev/null)
backend=$($q access token create svc-marketing-backend --days 1 --mesh "$mesh" 2>/dev/null)
$q access explain carla customer-relations.customer-lifetime-value --port api --mesh "$mesh"
# An access request: a merchandiser asks, the owning team (crm-analytics) approves, the grant applies at once.
$q access principal add olga --team crm-analytics --display-name "Olga (owns CLV)" --mesh "$mesh"
$q access principal add mia --role merchandisers --display-name "Mia (merchandising)" --mesh "$mesh"
$q access request customer-relations.customer-lifetime-value --as mia --port table \
  --purpose "size-curve planning by value segment" --for 14d --mesh "$mesh"
$q access approve 1 --as olga --note "for the spring range" --mesh "$mesh"
$q query "select value_segment, count(*) as customers from customer_relations.customer_lifetime_value group by all" \
  --as mia --mesh "$mesh"
$q audit --limit 4 --mesh "$mesh"
$q audit verify --mesh "$mesh"
# Mia reads the CLV table over SQL too: a SQL password for her (only its SCRAM verifier is kept).
mia_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
echo "$mia_password" | $q access password mia --mesh "$mesh"
port=${QUANTA_DEMO_PORT:-8765}
sql_port=${QUANTA_DEMO_SQL_PORT:-15432}
base=http://127.0.0.1:$port/api/v1/products
echo
echo "Serving on http://127.0.0.1:$port (Ctrl-C stops)."
echo "Open the catalog at http://127.0.0.1:$port/ in a browser and sign in with Carla's API token:"
echo "  $carla"
echo "Or try, in another terminal:"
echo "  curl -H 'Authorization: Bearer $backend' '$base/marketing/product-recommendations/v1/rows?customer_id=C0000001&fields=rank,sku,score'"
echo "  curl -H 'Authorization: Bearer $carla' '$base/customer-relations/customer-lifetime-value/v1/rows?limit=5'"
echo "  (Carla sees German customers only, e-mail masked; the backend may not read CLV: 403)"
echo "  PGPASSWORD='$mia_password' psql -h 127.0.0.1 -p $sql_port -U mia -d quanta \\"
echo "    -c 'select value_segment, count(*) as customers from customer_relations.customer_lifetime_value group by all'"
if [ "${QUANTA_DEMO_SERVE:-1}" != "0" ]; then
  exec $q serve "$mesh" --port "$port" --sql-port "$sql_port"
fi
