/** @module The monolith's own database: product reviews and store facts in one SQLite file, seeded on first open. */
import Database from "better-sqlite3";

export interface Review {
  readonly id: string;
  readonly productId: string;
  readonly author: string;
  /** 1 to 5. */
  readonly rating: number;
  readonly body: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

interface ReviewRow {
  id: number;
  product_id: string;
  author: string;
  rating: number;
  body: string;
  created_at: string;
}

/** Reviews of the shop's demo products, as the legacy app has held them for years. */
const SEED: ReadonlyArray<[string, string, number, string]> = [
  ["prod-espresso-machine", "Ada", 5, "Crema like a café. Heats up in two minutes."],
  ["prod-espresso-machine", "Grace", 4, "Great shots once you dial in the grind; the steam wand is weak."],
  ["prod-burr-grinder", "Linus", 5, "Consistent grind from espresso to French press."],
  ["prod-french-press", "Margaret", 4, "Solid glass, easy to clean. The filter lets some fines through."],
  ["prod-french-press", "Alan", 3, "Fine, but the lid rattles."],
  ["prod-pour-over-kettle", "Barbara", 5, "Precise temperature, a lovely pour."],
  ["prod-ceramic-mug", "Edsger", 5, "Keeps coffee warm and feels good in the hand."],
  ["prod-tea-sampler", "Frances", 4, "A tour of the world's teas; the oolong is the star."],
  ["prod-moka-pot", "Dennis", 4, "Strong stovetop coffee, exactly as remembered."],
  ["prod-gift-card", "Ken", 5, "Arrived instantly by email."],
];

export class ReviewsDb {
  private readonly db: Database.Database;
  /** Prepared once: preparing is most of a small query's cost. */
  private readonly statements: {
    byProduct: Database.Statement;
    byId: Database.Statement;
    page: Database.Statement;
    lastId: Database.Statement;
    insert: Database.Statement;
  };

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS reviews (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      product_id TEXT NOT NULL,
      author TEXT NOT NULL,
      rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
      body TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS reviews_by_product ON reviews (product_id, id)`);
    this.statements = {
      byProduct: this.db.prepare("SELECT * FROM reviews WHERE product_id = ? ORDER BY id"),
      byId: this.db.prepare("SELECT * FROM reviews WHERE id = ?"),
      page: this.db.prepare("SELECT * FROM reviews WHERE id > ? ORDER BY id LIMIT ?"),
      lastId: this.db.prepare("SELECT coalesce(max(id), 0) AS n FROM reviews"),
      insert: this.db.prepare(
        "INSERT INTO reviews (product_id, author, rating, body, created_at) VALUES (?, ?, ?, ?, ?)",
      ),
    };
    const { n } = this.db.prepare("SELECT count(*) AS n FROM reviews").get() as { n: number };
    if (n === 0) this.seed();
  }

  private seed(): void {
    this.db.transaction(() => {
      SEED.forEach(([productId, author, rating, body], i) => {
        const createdAt = new Date(Date.UTC(2021, 0, 1 + i * 17)).toISOString();
        this.statements.insert.run(productId, author, rating, body, createdAt);
      });
    })();
  }

  /** A product's reviews, oldest first (the legacy order). */
  forProduct(productId: string): Review[] {
    return (this.statements.byProduct.all(productId) as ReviewRow[]).map(toReview);
  }

  byId(id: string): Review | undefined {
    const n = /^rev-(\d{1,15})$/.exec(id)?.[1];
    if (n === undefined) return undefined;
    const row = this.statements.byId.get(Number(n)) as ReviewRow | undefined;
    return row === undefined ? undefined : toReview(row);
  }

  /** Reviews after the numeric id `after`, in id order: the export a new reviews service copies from. */
  page(after: number, limit: number): Review[] {
    return (this.statements.page.all(after, limit) as ReviewRow[]).map(toReview);
  }

  /** The numeric part of the newest review's id (0 when none). */
  lastId(): number {
    return (this.statements.lastId.get() as { n: number }).n;
  }

  add(productId: string, author: string, rating: number, body: string): Review {
    const createdAt = new Date().toISOString();
    const { lastInsertRowid } = this.statements.insert.run(productId, author, rating, body, createdAt);
    return { id: `rev-${lastInsertRowid}`, productId, author, rating, body, createdAt };
  }

  close(): void {
    this.db.close();
  }
}

function toReview(row: ReviewRow): Review {
  return {
    id: `rev-${row.id}`,
    productId: row.product_id,
    author: row.author,
    rating: row.rating,
    body: row.body,
    createdAt: row.created_at,
  };
}
