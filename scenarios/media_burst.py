"""media-burst: consecutive media uploads (mixed images and PDFs of realistic sizes, generated locally) during
peak text traffic; failure count, upload latency distribution, and the upload index where failures began.

market-figures.md #5: 1,000 uploads in the Monday 09–10 peak; system C answered 503 after the 700th.
"""

from __future__ import annotations

from pydantic import Field

from plan.load import Criterion, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import ConstantRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #5 (1,000 uploads; 503 from the 700th upload on system C)"


class MediaBurstParams(ScenarioParams):
    uploads: int = Field(1000, ge=1, le=1_000_000)
    rate: float = Field(10.0, gt=0, le=2000, description="uploads per second")
    text_per_upload: int = Field(1, ge=0, le=20, description="peak text sends offered per upload")
    max_image_kb: int = Field(800, ge=1, le=5 * 1024)
    max_pdf_kb: int = Field(2048, ge=1, le=100 * 1024)
    upload_p95_ms: float = Field(5000.0, gt=0)


def build(params: MediaBurstParams) -> LoadPlan:
    per_slot = 1 + params.text_per_upload
    duration = params.uploads / params.rate
    return LoadPlan(
        scenario="media-burst",
        **params.engine_fields(),
        phases=(Phase("uploads", ConstantRate(params.rate * per_slot, duration)),),
        mix=(
            TaskWeight("upload_media", 1),
            *((TaskWeight("send_text", params.text_per_upload),) if params.text_per_upload else ()),
        ),
        criteria=(
            Criterion("upload_failures", 0, aggregation="count", weight=3, scope="upload_media", source=SOURCE),
            Criterion(
                "latency_ms", params.upload_p95_ms, aggregation="p95", scope="upload_media", weight=2, source=SOURCE
            ),
            Criterion("error_rate", 0.01, aggregation="ratio", weight=1, source="market-figures.md #9"),
        ),
        options={"max_image_kb": params.max_image_kb, "max_pdf_kb": params.max_pdf_kb, "uploads": params.uploads},
    )


SCENARIO = Scenario(
    name="media-burst",
    summary="Consecutive media uploads (images and PDFs) during peak text traffic; failures and where they began",
    params_model=MediaBurstParams,
    build_plan=build,
    unused={"duration_s": "set the burst's size instead: --param uploads=N (its length is uploads ÷ --rate)"},
    quick={"uploads": 60, "rate": 6, "max_image_kb": 200, "max_pdf_kb": 400, "drain_s": 3},
    needs=("upload_media",),
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
