"""A fake Stripe API on the loopback address, for tests that must not reach Stripe.

``FakeStripe`` serves the part of Stripe's REST API the billing module and
dj-stripe use (customers, products, prices, Checkout and portal sessions,
subscriptions, invoices and their previews, the account), keeps the objects
in memory, and records every request. The stripe library talks to it over
HTTP like to Stripe (``stripe.api_base``), so the module's real code runs.

What happens on Stripe's side without an API call — a customer paying in
Checkout, a renewal, a failed payment, a trial ending — is done with the
helper methods (``complete_checkout``, ``renew``, ``fail_payment``, …).
Each state change appends the events Stripe would send to ``events``;
``webhook_request`` signs one for the webhook endpoint.

Object shapes follow Stripe's current API (billing periods on subscription
items, an invoice's subscription under ``parent``). Only what the module and
dj-stripe read is filled in.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TEST_SECRET_KEY = "sk_test_quickscaleFake0000000000000000"
TEST_WEBHOOK_SECRET = "whsec_quickscale_fake_test_secret"
MONTH = 30 * 24 * 3600
YEAR = 365 * 24 * 3600


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header, computed as Stripe documents it.

    ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<payload>" keyed by the secret>``.
    Written out here (not with the stripe library's helper) so that tests
    check the module against the documented scheme.
    """
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (``items[0][price]=…``) back into nested data."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})

    def listify(node):
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def _bool(value) -> bool:
    return value in (True, "true", "True", "1", 1)


class StripeError(Exception):
    def __init__(self, status: int, message: str, code: str = "", kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, "code": code or None}}


class FakeStripe:
    """The fake API and its state. Use as a context manager or ``start()``/``stop()``."""

    def __init__(self, api_key: str = TEST_SECRET_KEY, webhook_secret: str = TEST_WEBHOOK_SECRET):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.objects: dict[str, dict] = {}
        self.events: list[dict] = []
        self.requests: list[tuple[str, str, dict]] = []
        self.now = int(time.time())
        self._ids = itertools.count(1)
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self._failures: list[tuple[str, int, str]] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.account = {
            "id": "acct_quickscalefake",
            "object": "account",
            "type": "standard",
            "country": "US",
            "default_currency": "usd",
            "email": "billing@example.com",
            "charges_enabled": True,
            "payouts_enabled": True,
            "details_submitted": True,
            "business_profile": {"name": "QuickScale test"},
            "settings": {"dashboard": {"display_name": "QuickScale test"}},
            "metadata": {},
            "created": self.now - YEAR,
        }

    # --- server ------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, each answer
            # waits ~40 ms for the client's delayed ACK (Nagle).
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                status, payload = fake.handle(
                    self.command, self.path, body, dict(self.headers.items())
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_fake_{next(fake._ids)}")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeStripe is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStripe:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- requests -------------------------------------------------------------------

    def fail_next(self, method: str, path_prefix: str, status: int = 500, times: int = 1) -> None:
        """The next ``times`` requests matching answer with an API error (Stripe down, …).

        The stripe library retries a 5xx twice by itself: ``times=3`` makes a call fail.
        """
        for _ in range(times):
            self._failures.append((method.upper(), path_prefix, status))

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[tuple[str, str, dict]]:
        return [
            r
            for r in self.requests
            if (method is None or r[0] == method.upper()) and r[1].startswith(path_prefix)
        ]

    def handle(self, method: str, raw_path: str, body: str, headers: dict) -> tuple[int, dict]:
        split = urlsplit(raw_path)
        path = split.path
        params = decode_form(parse_qsl(split.query, keep_blank_values=True))
        if body:
            params.update(decode_form(parse_qsl(body, keep_blank_values=True)))
        lower = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.requests.append((method, path, params))
            if lower.get("authorization") != f"Bearer {self.api_key}":
                return 401, {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided",
                    }
                }
            for i, (m, prefix, status) in enumerate(self._failures):
                if m == method and path.startswith(prefix):
                    del self._failures[i]
                    return status, {"error": {"type": "api_error", "message": "Injected failure"}}
            key = lower.get("idempotency-key")
            if key and method == "POST" and key in self._idempotent:
                return self._idempotent[key]
            try:
                result = (200, self.public(self.route(method, path, params)))
            except StripeError as exc:
                result = (exc.status, exc.body)
            if key and method == "POST":
                self._idempotent[key] = result
            return result

    def route(self, method: str, path: str, p: dict) -> dict:
        parts = [x for x in path.split("/") if x][1:]  # drop "v1"
        match (method, parts):
            case ("GET", ["account"]):
                return self.account
            case ("POST", ["customers"]):
                return self._create_customer(p)
            case ("POST", ["products"]):
                return self._create_product(p)
            case ("POST", ["prices"]):
                return self._create_price(p)
            case ("POST", ["checkout", "sessions"]):
                return self._create_session(p)
            case ("POST", ["billing_portal", "sessions"]):
                return self._create_portal_session(p)
            case ("POST", ["invoices", "create_preview"]):
                return self._preview(p)
            case ("GET", ["subscriptions"]):
                return self._list("subscription", p)
            case ("GET", ["invoices"]):
                return self._list("invoice", p)
            case ("POST", ["subscriptions", sid, "resume"]):
                return self._resume(sid)
            case ("DELETE", ["subscriptions", sid]):
                return self.cancel_now(sid)
            case ("POST", ["subscriptions", sid]):
                return self._modify_subscription(sid, p)
            case ("POST", ["customers", cid]):
                customer = self.get(cid, "customer")
                customer.update({k: v for k, v in p.items() if k in ("email", "name")})
                customer.setdefault("metadata", {}).update(p.get("metadata") or {})
                return customer
            case ("GET", ["products", pid, "features"]):
                self.get(pid, "product")
                return {"object": "list", "data": [], "has_more": False, "url": path}
            case ("GET", [*_, oid]) if len(parts) >= 2:
                return self.get(oid)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    # --- objects ----------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    def get(self, oid: str, kind: str | None = None) -> dict:
        obj = self.objects.get(oid)
        if obj is None or (kind and obj.get("object") != kind):
            raise StripeError(404, f"No such {kind or 'object'}: '{oid}'", "resource_missing")
        return obj

    def _store(self, obj: dict) -> dict:
        obj.setdefault("livemode", False)
        obj.setdefault("metadata", {})
        obj.setdefault("created", self.now)
        self.objects[obj["id"]] = obj
        return obj

    def _list(self, kind: str, p: dict) -> dict:
        items = [o for o in self.objects.values() if o.get("object") == kind]
        if p.get("customer"):
            items = [o for o in items if o.get("customer") == p["customer"]]
        status = p.get("status")
        if status and status != "all":
            items = [o for o in items if o.get("status") == status]
        items.sort(key=lambda o: o.get("created", 0), reverse=True)
        return {"object": "list", "data": items, "has_more": False, "url": f"/v1/{kind}s"}

    def _create_customer(self, p: dict) -> dict:
        return self._store(
            {
                "id": self.new_id("cus"),
                "object": "customer",
                "email": p.get("email"),
                "name": p.get("name"),
                "metadata": p.get("metadata") or {},
                "invoice_settings": {"default_payment_method": None},
                "balance": 0,
                "currency": None,
                "delinquent": False,
                "description": None,
                "discount": None,
                "address": None,
                "phone": None,
                "preferred_locales": [],
                "tax_exempt": "none",
                "test_clock": None,
            }
        )

    def _create_product(self, p: dict) -> dict:
        return self._store(
            {
                "id": self.new_id("prod"),
                "object": "product",
                "name": p.get("name", ""),
                "description": p.get("description"),
                "active": True,
                "metadata": p.get("metadata") or {},
                "images": [],
                "marketing_features": [],
                "default_price": None,
                "type": "service",
                "updated": self.now,
            }
        )

    def _create_price(self, p: dict) -> dict:
        product = p.get("product") or self._create_product({"name": "Product"})["id"]
        recurring = p.get("recurring") or {}
        amount = int(p.get("unit_amount") or 0)
        return self._store(
            {
                "id": self.new_id("price"),
                "object": "price",
                "active": True,
                "currency": p.get("currency", "usd"),
                "unit_amount": amount,
                "unit_amount_decimal": str(amount),
                "product": product,
                "type": "recurring" if recurring else "one_time",
                "billing_scheme": "per_unit",
                "recurring": {
                    "interval": recurring.get("interval", "month"),
                    "interval_count": int(recurring.get("interval_count") or 1),
                    "usage_type": "licensed",
                    "meter": None,
                    "trial_period_days": None,
                }
                if recurring
                else None,
                "nickname": p.get("nickname"),
                "lookup_key": None,
                "tax_behavior": "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "custom_unit_amount": None,
                "metadata": p.get("metadata") or {},
            }
        )

    def create_price(self, amount: int, interval: str = "month", currency: str = "usd", name: str = "Plan") -> str:
        """Test helper: a product and a recurring price in it; returns the price id."""
        with self._lock:
            product = self._create_product({"name": name})
            return self._create_price(
                {
                    "product": product["id"],
                    "unit_amount": amount,
                    "currency": currency,
                    "recurring": {"interval": interval},
                }
            )["id"]

    def _create_session(self, p: dict) -> dict:
        if p.get("mode") != "subscription":
            raise StripeError(400, "The fake only supports mode=subscription.")
        customer = self.get(p.get("customer", ""), "customer")
        line_items = p.get("line_items") or []
        if not line_items:
            raise StripeError(400, "Missing required param: line_items.")
        for item in line_items:
            self.get(item.get("price", ""), "price")
        sid = self.new_id("cs_test")
        return self._store(
            {
                "id": sid,
                "object": "checkout.session",
                "mode": "subscription",
                "status": "open",
                "payment_status": "unpaid",
                "customer": customer["id"],
                "client_reference_id": p.get("client_reference_id"),
                "subscription": None,
                "invoice": None,
                "payment_intent": None,
                "setup_intent": None,
                "url": f"{self.url if self._server else 'https://checkout.stripe.test'}/c/pay/{sid}",
                "success_url": p.get("success_url"),
                "cancel_url": p.get("cancel_url"),
                "metadata": p.get("metadata") or {},
                "expires_at": self.now + 24 * 3600,
                "amount_total": None,
                "currency": None,
                # Not part of Stripe's session object; kept for complete_checkout.
                "_line_items": line_items,
                "_subscription_data": p.get("subscription_data") or {},
            }
        )

    def _create_portal_session(self, p: dict) -> dict:
        customer = self.get(p.get("customer", ""), "customer")
        sid = self.new_id("bps")
        return self._store(
            {
                "id": sid,
                "object": "billing_portal.session",
                "customer": customer["id"],
                "return_url": p.get("return_url"),
                "url": f"https://billing.stripe.test/p/session/{sid}",
            }
        )

    # --- events ---------------------------------------------------------------------------

    def emit(self, type_: str, obj: dict, previous: dict | None = None) -> dict:
        data = {"object": self.public(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "type": type_,
            "api_version": "2026-08-26.dahlia",
            "created": self.now,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": data,
        }
        self.events.append(event)
        self.objects[event["id"]] = event
        return event

    @staticmethod
    def public(obj):
        """A copy without the fake's private ``_`` keys, at any depth."""
        if isinstance(obj, dict):
            return {k: FakeStripe.public(v) for k, v in obj.items() if not k.startswith("_")}
        if isinstance(obj, list):
            return [FakeStripe.public(v) for v in obj]
        return copy.deepcopy(obj)

    def last_event(self, type_: str) -> dict:
        return next(e for e in reversed(self.events) if e["type"] == type_)

    def webhook_request(
        self, event: dict, *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[str, dict]:
        """The body and headers Stripe would POST for ``event``."""
        body = json.dumps(event)
        header = sign_payload(body, secret or self.webhook_secret, timestamp)
        return body, {"Stripe-Signature": header}

    # --- subscriptions ------------------------------------------------------------------

    def _item(self, sub_id: str, price: dict, start: int, end: int) -> dict:
        return {
            "id": self.new_id("si"),
            "object": "subscription_item",
            "subscription": sub_id,
            "price": copy.deepcopy(price),
            "quantity": 1,
            "created": self.now,
            "metadata": {},
            "current_period_start": start,
            "current_period_end": end,
            "tax_rates": [],
            "discounts": [],
            "billing_thresholds": None,
        }

    def _period(self, price: dict) -> int:
        return YEAR if (price.get("recurring") or {}).get("interval") == "year" else MONTH

    def _invoice(self, sub: dict, lines: list[dict], *, paid: bool, reason: str) -> dict:
        total = sum(line["amount"] for line in lines)
        iid = self.new_id("in")
        number = f"FAKE-{next(self._ids):04d}"
        invoice = self._store(
            {
                "id": iid,
                "object": "invoice",
                "customer": sub["customer"],
                "number": number,
                "status": "paid" if paid or total <= 0 else "open",
                "currency": sub.get("currency", "usd"),
                "subtotal": total,
                "total": total,
                "amount_due": max(total, 0),
                "amount_paid": max(total, 0) if paid else 0,
                "amount_remaining": 0 if paid else max(total, 0),
                "attempt_count": 1,
                "attempted": True,
                "paid": paid or total <= 0,
                "billing_reason": reason,
                "collection_method": "charge_automatically",
                "hosted_invoice_url": f"https://invoice.stripe.test/i/{iid}",
                "invoice_pdf": f"https://pay.stripe.test/invoice/{iid}/pdf",
                "period_start": self.now,
                "period_end": self.now,
                "footer": None,
                "discounts": [],
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"subscription": sub["id"], "metadata": {}},
                },
                "status_transitions": {"paid_at": self.now if paid else None},
                "lines": {
                    "object": "list",
                    "data": lines,
                    "has_more": False,
                    "total_count": len(lines),
                    "url": f"/v1/invoices/{iid}/lines",
                },
            }
        )
        sub["latest_invoice"] = iid
        return invoice

    def _line(self, price: dict, amount: int, description: str, *, proration: bool, start: int, end: int, item: str) -> dict:
        return {
            "id": self.new_id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": price.get("currency", "usd"),
            "description": description,
            "period": {"start": start, "end": end},
            "quantity": 1,
            "metadata": {},
            "discounts": [],
            "discount_amounts": [],
            "pricing": {"type": "price_details", "price_details": {"price": price["id"], "product": price["product"]}},
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {"proration": proration, "subscription_item": item},
            },
        }

    def _emit_invoice(self, invoice: dict) -> None:
        self.emit("invoice.created", invoice)
        self.emit("invoice.finalized", invoice)
        if invoice["status"] == "paid":
            self.emit("invoice.paid", invoice)
            self.emit("invoice.payment_succeeded", invoice)
        else:
            self.emit("invoice.payment_failed", invoice)

    def complete_checkout(self, session_id: str, *, pay: bool = True) -> dict:
        """The customer pays in Checkout: the subscription starts (trialing or active)."""
        with self._lock:
            session = self.get(session_id, "checkout.session")
            price = self.get(session["_line_items"][0]["price"], "price")
            trial = int(session["_subscription_data"].get("trial_period_days") or 0)
            sid = self.new_id("sub")
            start = self.now
            end = start + (trial * 24 * 3600 if trial else self._period(price))
            sub = self._store(
                {
                    "id": sid,
                    "object": "subscription",
                    "customer": session["customer"],
                    "status": "trialing" if trial else ("active" if pay else "incomplete"),
                    "currency": price["currency"],
                    "items": {"object": "list", "data": [], "has_more": False, "total_count": 1, "url": f"/v1/subscription_items?subscription={sid}"},
                    "cancel_at_period_end": False,
                    "cancel_at": None,
                    "canceled_at": None,
                    "ended_at": None,
                    "start_date": start,
                    "billing_cycle_anchor": end if trial else start,
                    "trial_start": start if trial else None,
                    "trial_end": end if trial else None,
                    "pause_collection": None,
                    "collection_method": "charge_automatically",
                    "default_payment_method": None,
                    "default_tax_rates": [],
                    "discounts": [],
                    "latest_invoice": None,
                    "schedule": None,
                    "test_clock": None,
                    "metadata": copy.deepcopy(session["_subscription_data"].get("metadata") or {}),
                }
            )
            item = self._item(sid, price, start, end)
            sub["items"]["data"] = [item]
            amount = 0 if trial else price["unit_amount"]
            invoice = self._invoice(
                sub,
                [self._line(price, amount, f"1 × {price['id']}", proration=False, start=start, end=end, item=item["id"])],
                paid=pay,
                reason="subscription_create",
            )
            session.update(
                status="complete",
                payment_status="paid" if pay else "unpaid",
                subscription=sid,
                invoice=invoice["id"],
                amount_total=amount,
                currency=price["currency"],
            )
            self.emit("checkout.session.completed", session)
            self.emit("customer.subscription.created", sub)
            self._emit_invoice(invoice)
            return sub

    def _modify_subscription(self, sid: str, p: dict) -> dict:
        sub = self.get(sid, "subscription")
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(400, "A canceled subscription can only update its metadata.")
        previous: dict = {}
        if "items" in p:
            change = p["items"][0]
            item = sub["items"]["data"][0]
            if change.get("id") and change["id"] != item["id"]:
                raise StripeError(400, f"No such subscription item: '{change['id']}'")
            new_price = self.get(change["price"], "price")
            behavior = p.get("proration_behavior", "create_prorations")
            when = int(p.get("proration_date") or self.now)
            lines = self._proration_lines(sub, item, new_price, when) if behavior != "none" else []
            previous["items"] = copy.deepcopy(sub["items"])
            item["price"] = copy.deepcopy(new_price)
            if self._period(new_price) != item["current_period_end"] - item["current_period_start"]:
                # An interval change restarts the billing cycle, as in Stripe.
                item["current_period_start"] = self.now
                item["current_period_end"] = self.now + self._period(new_price)
            if lines and behavior == "always_invoice":
                invoice = self._invoice(sub, lines, paid=True, reason="subscription_update")
                self.emit("customer.subscription.updated", sub, previous)
                self._emit_invoice(invoice)
                previous = {}
            else:
                sub.setdefault("_pending_prorations", []).extend(lines)
        if "cancel_at_period_end" in p:
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            sub["cancel_at_period_end"] = _bool(p["cancel_at_period_end"])
            sub["canceled_at"] = self.now if sub["cancel_at_period_end"] else None
            sub["cancel_at"] = (
                sub["items"]["data"][0]["current_period_end"] if sub["cancel_at_period_end"] else None
            )
        if "pause_collection" in p:
            previous["pause_collection"] = sub["pause_collection"]
            value = p["pause_collection"]
            sub["pause_collection"] = (
                {"behavior": value.get("behavior", "void"), "resumes_at": value.get("resumes_at")}
                if isinstance(value, dict)
                else None
            )
        if "metadata" in p:
            sub["metadata"].update(p["metadata"])
        if previous:
            self.emit("customer.subscription.updated", sub, previous)
        return sub

    def _proration_lines(self, sub: dict, item: dict, new_price: dict, when: int) -> list[dict]:
        start, end = item["current_period_start"], item["current_period_end"]
        if sub["status"] == "trialing" or end <= when:
            return []
        fraction = (end - when) / (end - start)
        old = item["price"]
        credit = -round(old["unit_amount"] * fraction)
        charge = round(new_price["unit_amount"] * fraction)
        return [
            self._line(old, credit, f"Unused time on {old['id']}", proration=True, start=when, end=end, item=item["id"]),
            self._line(new_price, charge, f"Remaining time on {new_price['id']}", proration=True, start=when, end=end, item=item["id"]),
        ]

    def _preview(self, p: dict) -> dict:
        sub = self.get(p.get("subscription", ""), "subscription")
        details = p.get("subscription_details") or {}
        change = (details.get("items") or [{}])[0]
        item = sub["items"]["data"][0]
        new_price = self.get(change.get("price", ""), "price")
        behavior = details.get("proration_behavior", "create_prorations")
        when = int(details.get("proration_date") or self.now)
        lines = self._proration_lines(sub, item, new_price, when) if behavior != "none" else []
        if behavior != "always_invoice":
            # The upcoming invoice: the prorations plus the next period at the new price.
            end = item["current_period_end"]
            lines = list(sub.get("_pending_prorations", [])) + lines + [
                self._line(new_price, new_price["unit_amount"], f"1 × {new_price['id']}", proration=False,
                           start=end, end=end + self._period(new_price), item=item["id"])
            ]
        total = sum(line["amount"] for line in lines)
        return {
            "id": None,
            "object": "invoice",
            "customer": sub["customer"],
            "currency": sub.get("currency", "usd"),
            "subtotal": total,
            "total": total,
            "amount_due": max(total, 0),
            "lines": {"object": "list", "data": lines, "has_more": False, "total_count": len(lines)},
        }

    def _resume(self, sid: str) -> dict:
        sub = self.get(sid, "subscription")
        if sub["status"] != "paused":
            raise StripeError(400, "Only a paused subscription can be resumed.")
        sub["status"] = "active"
        item = sub["items"]["data"][0]
        item["current_period_start"] = self.now
        item["current_period_end"] = self.now + self._period(item["price"])
        self.emit("customer.subscription.resumed", sub)
        self.emit("customer.subscription.updated", sub, {"status": "paused"})
        return sub

    # --- what happens on Stripe's side ----------------------------------------------------

    def set_status(self, sid: str, status: str) -> dict:
        with self._lock:
            sub = self.get(sid, "subscription")
            previous = {"status": sub["status"]}
            sub["status"] = status
            self.emit("customer.subscription.updated", sub, previous)
            return sub

    def renew(self, sid: str, *, pay: bool = True) -> dict:
        """The period ends: a new one starts and its invoice is paid (or fails)."""
        with self._lock:
            sub = self.get(sid, "subscription")
            item = sub["items"]["data"][0]
            self.now = max(self.now, item["current_period_end"])
            start, end = self.now, self.now + self._period(item["price"])
            if sub["cancel_at_period_end"]:
                return self.cancel_now(sid)
            previous = {"status": sub["status"]}
            item["current_period_start"], item["current_period_end"] = start, end
            if sub["status"] == "trialing":
                sub["trial_end"] = start
            lines = list(sub.pop("_pending_prorations", [])) + [
                self._line(item["price"], item["price"]["unit_amount"], f"1 × {item['price']['id']}",
                           proration=False, start=start, end=end, item=item["id"])
            ]
            invoice = self._invoice(sub, lines, paid=pay and not sub["pause_collection"], reason="subscription_cycle")
            if sub["pause_collection"]:
                invoice["status"] = "void"
            sub["status"] = "active" if pay or sub["pause_collection"] else "past_due"
            self.emit("customer.subscription.updated", sub, previous)
            if invoice["status"] != "void":
                self._emit_invoice(invoice)
            return sub

    def fail_payment(self, sid: str) -> dict:
        """The renewal's payment fails: the subscription is past_due."""
        return self.renew(sid, pay=False)

    def pay_open_invoice(self, sid: str) -> dict:
        """The customer fixes their card: the open invoice is paid, the subscription active."""
        with self._lock:
            sub = self.get(sid, "subscription")
            invoice = self.get(sub["latest_invoice"], "invoice")
            invoice.update(status="paid", paid=True, amount_paid=invoice["amount_due"], amount_remaining=0)
            previous = {"status": sub["status"]}
            sub["status"] = "active"
            self.emit("invoice.paid", invoice)
            self.emit("invoice.payment_succeeded", invoice)
            self.emit("customer.subscription.updated", sub, previous)
            return sub

    def end_trial_without_payment_method(self, sid: str) -> dict:
        """Trial over and no card: Stripe pauses the subscription (status paused)."""
        with self._lock:
            sub = self.get(sid, "subscription")
            previous = {"status": sub["status"]}
            sub["status"] = "paused"
            self.emit("customer.subscription.paused", sub)
            self.emit("customer.subscription.updated", sub, previous)
            return sub

    def cancel_now(self, sid: str) -> dict:
        with self._lock:
            sub = self.get(sid, "subscription")
            previous = {"status": sub["status"]}
            sub.update(status="canceled", ended_at=self.now, canceled_at=sub["canceled_at"] or self.now)
            self.emit("customer.subscription.deleted", sub, previous)
            return sub
