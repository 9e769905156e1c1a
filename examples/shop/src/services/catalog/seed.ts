/** @module The demo catalog seeded on first start. */
import type { Product } from "./contract.js";

const rows: Array<[string, string, string, number]> = [
  ["espresso-machine", "Espresso Machine", "15-bar pump espresso maker with steam wand", 24900],
  ["burr-grinder", "Burr Grinder", "Conical burr coffee grinder with 40 settings", 12900],
  ["pour-over-kettle", "Pour-over Kettle", "Gooseneck kettle with temperature control", 7900],
  ["french-press", "French Press", "1 litre borosilicate glass coffee press", 3400],
  ["coffee-beans-ethiopia", "Ethiopian Coffee Beans", "Light roast, notes of jasmine and bergamot, 1 kg", 2800],
  ["coffee-beans-colombia", "Colombian Coffee Beans", "Medium roast, notes of caramel and cocoa, 1 kg", 2400],
  ["milk-frother", "Milk Frother", "Handheld frother for lattes and cappuccinos", 1900],
  ["ceramic-mug", "Ceramic Mug", "Hand-glazed 350 ml stoneware mug", 1500],
  ["travel-mug", "Travel Mug", "Insulated stainless steel travel mug, 450 ml", 2900],
  ["tea-sampler", "Tea Sampler", "Twelve loose-leaf teas from four continents", 3200],
  ["matcha-set", "Matcha Set", "Bamboo whisk, scoop and ceremonial-grade matcha", 4500],
  ["cold-brew-jar", "Cold Brew Jar", "2 litre cold brew maker with stainless filter", 3900],
  ["digital-scale", "Digital Scale", "Coffee scale with timer, 0.1 g resolution", 4900],
  ["paper-filters", "Paper Filters", "100 unbleached cone filters", 700],
  ["espresso-cups", "Espresso Cups", "Set of four 80 ml porcelain cups", 2600],
  ["knock-box", "Knock Box", "Steel knock box for spent espresso pucks", 2200],
  ["tamper", "Tamper", "58 mm calibrated espresso tamper", 3500],
  ["cleaning-tablets", "Cleaning Tablets", "Espresso machine cleaning tablets, 100 pack", 1400],
  ["descaler", "Descaler", "Citric descaler for kettles and machines, 500 ml", 1200],
  ["moka-pot", "Moka Pot", "Six-cup aluminium stovetop coffee maker", 3600],
  ["chai-blend", "Chai Blend", "Spiced black tea blend, 250 g", 1100],
  ["honey-jar", "Wildflower Honey", "Raw wildflower honey, 500 g", 1300],
  ["biscotti", "Almond Biscotti", "Twice-baked almond biscotti, 300 g", 900],
  ["gift-card", "Gift Card", "A gift card worth 50 EUR", 5000],
];

export const demoProducts: Product[] = rows.map(([slug, name, description, price]) => ({
  id: `prod-${slug}`,
  name,
  description,
  price,
  currency: "EUR",
}));
