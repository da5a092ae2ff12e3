// Test data: a customer's order of two products, as the commands carry it.

import { randomUUID } from 'node:crypto';

export const usd = (amount) => ({ amount: BigInt(amount), currency: 'USD' });

export const address = {
  street1: '1 Main Street',
  street2: undefined,
  city: 'Springfield',
  stateProvince: 'IL',
  postalCode: '62701',
  country: 'US',
};

export const products = {
  keyboard: randomUUID(),
  mouse: randomUUID(),
};

/** A `place-order-command` for 2 keyboards at 49.99 and 1 mouse at 19.50. */
export function placeOrderCommand(overrides = {}) {
  return {
    orderId: randomUUID(),
    customerId: randomUUID(),
    items: [
      {
        itemId: randomUUID(),
        productId: products.keyboard,
        sku: 'KB-001',
        productName: 'Mechanical keyboard',
        quantity: 2,
        unitPrice: usd(4999),
      },
      {
        itemId: randomUUID(),
        productId: products.mouse,
        sku: 'MS-002',
        productName: 'Wireless mouse',
        quantity: 1,
        unitPrice: usd(1950),
      },
    ],
    shippingAddress: address,
    billingAddress: address,
    paymentMethod: 'credit-card',
    ...overrides,
  };
}

/** The total of `placeOrderCommand()` under a zero tax and shipping policy. */
export const ORDER_TOTAL = 2n * 4999n + 1950n;

/** Stock levels that cover one order of `placeOrderCommand()`. */
export const STOCK = { [products.keyboard]: 5, [products.mouse]: 3 };
