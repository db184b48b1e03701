"""The README's till walk-through, driven only by a client that
openapi-python-client generated from /openapi.json (SPEC §15): checkout,
basket, order number, pre-order, complete, order.

Usage: python client_walkthrough.py BASE_URL USERNAME PASSWORD
(the generated package `cashdesk_client` must be importable).
"""

import sys
import time

from cashdesk_client import Client
from cashdesk_client.api.cash_register_hooks import (
    complete_cash_register_payment,
    get_cash_register_order_number,
    get_cash_register_pre_order,
)
from cashdesk_client.api.checkout import create_checkout_session, update_checkout_session
from cashdesk_client.api.orders import get_order
from cashdesk_client.models import (
    BasketItemWrite,
    BasketWrite,
    CheckoutAnswer,
    CheckoutPatch,
    CompleteAnswer,
    CompleteRequest,
    OrderNumberIssued,
    OrderView,
    PreOrderFound,
    PreOrderRequest,
    StaffWrite,
)


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base_url, username, password):
    client = Client(base_url=base_url, raise_on_unexpected_status=True)

    # 1. The storefront opens a checkout session and fills the basket.
    created = expect(create_checkout_session.sync(client=client), CheckoutAnswer, "create session")
    session = created.session_id
    patch = CheckoutPatch(
        basket=BasketWrite(items=[BasketItemWrite(sku="SKU-1", quantity=2)]),
        payment_option="cash-register",
        shipping_option="pickup",
        staff=StaffWrite(staff_id=17, staff_email="a@b.c", store_id="IST-01"),
    )
    updated = expect(update_checkout_session.sync(client=client, body=patch, x_checkout_session=session), CheckoutAnswer, "basket")
    total = updated.pre_order.total_amount
    if total != "199.98":
        sys.exit(f"basket total: expected 199.98, got {total}")

    # 2. The customer gets an order number.
    issued = expect(get_cash_register_order_number.sync(client=client, x_checkout_session=session), OrderNumberIssued, "order number")
    number = issued.order_number

    # 3. At the till, the POS fetches the pre-order.
    found = get_cash_register_pre_order.sync(
        client=client, body=PreOrderRequest(order_number=number, username=username, password=password)
    )
    found = expect(found, PreOrderFound, "pre-order")
    if found.pre_order.unpaid_amount != "199.98" or found.order_number != number:
        sys.exit(f"pre-order: {found}")

    # 4. The cashier takes the money; the POS completes the payment.
    paid = complete_cash_register_payment.sync(
        client=client,
        body=CompleteRequest(
            transaction_id=f"TXN-{number}",
            order_number=number,
            username=username,
            password=password,
            amount="199.98",
            terminal_code="TERM-001",
        ),
    )
    paid = expect(paid, CompleteAnswer, "complete")
    if getattr(paid.result, "value", paid.result) != "0" or paid.order_number != number:
        sys.exit(f"complete: {paid}")

    # 5. The worker creates the order a moment later.
    deadline = time.monotonic() + 30
    while True:
        response = get_order.sync_detailed(client=client, order_number=number)
        if response.status_code == 200:
            order = expect(response.parsed, OrderView, "order")
            break
        if time.monotonic() > deadline:
            sys.exit(f"order {number} not made within 30 s: {response.status_code}")
        time.sleep(0.2)
    if order.status != "completed" or order.total_amount != "199.98" or order.payment.transaction_id != f"TXN-{number}":
        sys.exit(f"order: {order}")
    print(f"generated client: paid order {number} at the till, order {order.order_internal_id} completed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
