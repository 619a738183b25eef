"""Reading image requests: the parser agrees with the dev set's annotations."""

import json
from pathlib import Path

import pytest

from mmthink.modalities.image.understanding import parse_image_request

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "image_prompts_dev.jsonl"
if not DEV.exists():
    DEV = Path(__file__).resolve().parent / "data" / "image_prompts_dev.jsonl"


def _items():
    return [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not DEV.exists(), reason="dev set not present")
def test_dev_set_objects_counts_colours_and_relations():
    for item in _items():
        intent = parse_image_request(item["prompt"])
        for _i, inc in enumerate(item["include"]):
            want = intent.find(inc["class"])
            assert want is not None, (item["prompt"], inc["class"])
            assert want.count == inc["count"], item["prompt"]
            if "color" in inc and inc["color"] in item["prompt"]:
                assert want.color == inc["color"], item["prompt"]
            if "position" in inc:
                rel, ref = inc["position"]
                target = item["include"][ref]["class"]
                assert want.relation == (rel, target), item["prompt"]


def test_pronouns_and_between():
    it = parse_image_request("three red apples on a table, a blue cup to the left of them")
    assert it.find("cup").relation == ("left of", "apple")
    assert it.find("apple").count == 3 and it.find("apple").color == "red"
    it = parse_image_request("an orange fox between two trees")
    assert it.find("fox").relation == ("between", "tree") and it.find("tree").count == 2
