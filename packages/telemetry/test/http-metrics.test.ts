import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { httpMetrics, UNMATCHED_ROUTE } from "../src/index.js";

describe("httpMetrics()", () => {
  it("counts by method, route template and code, folding unmatched paths into one series", async () => {
    const registry = new Registry();
    const http = httpMetrics(registry);
    for (let i = 0; i < 3; i++) http.started();
    http.finished("GET", "/api/v1/products/:id", 200, 0.002);
    http.finished("GET", undefined, 404, 0.001);
    const during = await http.render();
    expect(during).toContain("flotilla_http_requests_in_flight 1");
    http.finished("GET", undefined, 404, 0.001);
    const text = await http.render();
    expect(text).toContain('flotilla_http_requests_total{method="GET",route="/api/v1/products/:id",code="200"} 1');
    expect(text).toContain(`flotilla_http_requests_total{method="GET",route="${UNMATCHED_ROUTE}",code="404"} 2`);
    expect(text).toContain(
      'flotilla_http_request_duration_seconds_count{method="GET",route="/api/v1/products/:id",code="200"} 1',
    );
    expect(text).toContain("flotilla_http_requests_in_flight 0");
    expect(http.contentType).toBe(registry.contentType);
  });
});
