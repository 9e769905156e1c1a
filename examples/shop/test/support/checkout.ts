/** What a checkout needs besides its items: SHOP-API.md's test card that succeeds and an address that is served. */
export const paid = {
  payment: { card: "4242424242424242" },
  shipping: { name: "Ada Lovelace", street: "12 St James's Square", city: "London", country: "GB" },
} as const;
