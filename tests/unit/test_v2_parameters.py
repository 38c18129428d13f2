"""V2 gRPC parameters: Triton's double_param and uint64_param, which kserve's proto keeps as unknown fields."""

from __future__ import annotations

import struct

import pytest
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb

from tts_predictor.errors import UnsupportedOption
from tts_predictor.protocol.v2 import parameters_dict


def _triton(raw: bytes) -> pb.InferParameter:
    parameter = pb.InferParameter()
    parameter.MergeFromString(raw)
    return parameter


def test_double_and_uint64_params_are_read_from_the_unknown_fields():
    double = _triton(b"\x21" + struct.pack("<d", 1.2))  # field 4, 64-bit (tritonclient.grpc's floats)
    uint64 = _triton(b"\x28\x96\x01")  # field 5, varint 150
    known = pb.InferParameter(string_param="1.5")
    assert parameters_dict({"speed": double, "seed": uint64, "pitch": known}) == {
        "speed": 1.2,
        "seed": 150,
        "pitch": "1.5",
    }


def test_a_parameter_without_a_value_is_refused_naming_it():
    with pytest.raises(UnsupportedOption, match="parameters.speed"):
        parameters_dict({"speed": pb.InferParameter()})
