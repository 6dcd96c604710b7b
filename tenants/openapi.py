"""OpenAPI: Sigap's two credential schemes (loaded by ``TenantsConfig.ready``), the error
answers of every operation and strict request bodies (``SigapAutoSchema``, hooks)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, extend_schema_field
from drf_standardized_errors.openapi import AutoSchema as StandardizedAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_utils import (
    get_flat_serializer_fields,
    get_serializer_fields_with_error_codes,
)
from inflection import camelize
from rest_framework import serializers

from tenants.api import errors
from tenants.api.serializers import ServiceModelSerializer, StrictSerializerMixin
from tenants.writes import tenant_unique_sets


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tenants.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from POST /api/v1/auth/tokens/.",
        }


class TenantApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tenants.authentication.TenantApiKeyAuthentication"
    name = "tenantApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "'Api-Key <key>': a tenant's machine key; it may only ingest.",
        }


def document_request_id(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: a 500 body also carries the ``request_id`` to quote
    (``config.errors.server_error_response``)."""
    schema = result.get("components", {}).get("schemas", {}).get("ErrorResponse500")
    if schema is not None:
        schema["properties"]["request_id"] = {
            "type": "string",
            "description": "The request id (also in the X-Request-Id header) to quote.",
        }
    return result


# --- Error answers and strict request bodies ---------------------------------------------------
# ``SigapAutoSchema`` (DEFAULT_SCHEMA_CLASS) documents, from ``tenants.api.errors``, every code
# an operation's view and serializers declare: the 400 codes by field in the operation's own
# validation-error component, the others (401, 403, 409, 429) in the shared
# ``ErrorCode<status>Enum`` (``document_error_codes``), each with an example body. Request
# bodies of ``StrictSerializerMixin`` serializers get ``additionalProperties: false``, and their
# 400 answers the ``unknown_field`` error naming the field sent.


@extend_schema_field(
    {"type": "string", "enum": [e.code for e in errors.REGISTRY if e.status == 409]}
)
class _Code409Field(serializers.CharField):
    pass


class _Error409Serializer(serializers.Serializer):  # type: ignore[type-arg]
    code = _Code409Field()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse409Serializer(serializers.Serializer):  # type: ignore[type-arg]
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = _Error409Serializer(many=True)  # type: ignore[assignment]  # a field named errors


EXTRA_ERROR_SERIALIZERS = {"409": ErrorResponse409Serializer}
UNKNOWN_FIELD_EXAMPLE_ATTR = "nickname"


def _action(auto_schema: Any) -> str:
    return str(getattr(auto_schema.view, "action", None) or auto_schema.method.lower())


class SigapAutoSchema(StandardizedAutoSchema):
    def declared_error_codes(self) -> tuple[errors.ErrorCode, ...]:
        """What this operation may answer on purpose: the view's declaration, its request
        serializer's and its query-parameter serializer's (``params_class``)."""
        codes = list(errors.declared_by_view(self.view, _action(self)))
        if self.method in ("POST", "PUT", "PATCH"):
            request = self.get_request_serializer()
            request_class = request if isinstance(request, type) else type(request)
            codes += errors.declared_by_class(request_class)
            if isinstance(request, StrictSerializerMixin) or (
                isinstance(request, type) and issubclass(request, StrictSerializerMixin)
            ):
                codes.append(errors.UNKNOWN_FIELD)
            model = getattr(getattr(request_class, "Meta", None), "model", None)
            if model is not None and issubclass(request_class, ServiceModelSerializer):
                codes += [errors.tenant_unique(names[-1]) for names in tenant_unique_sets(model)]
        params_class = getattr(self.view, "params_class", None)
        if params_class is not None and self.method == "GET":
            codes += errors.declared_by_class(params_class)
        paginator = self._get_paginator() if self.method == "GET" else None  # type: ignore[no-untyped-call]
        if paginator is not None:
            codes += errors.declared_by_class(type(paginator))
        return tuple(dict.fromkeys(codes))

    def _should_add_parse_error_response(self) -> bool:
        """Also where the view reads the body itself and declares codes for a body it cannot
        read (400 ``client_error``, no field: the shared ``ParseErrorCodeEnum``)."""
        declared = any(e.status == 400 and e.attr is None for e in self.declared_error_codes())
        return declared or bool(super()._should_add_parse_error_response())

    def _get_allowed_error_status_codes(self) -> list[str]:
        return [*super()._get_allowed_error_status_codes(), *EXTRA_ERROR_SERIALIZERS]

    def _should_add_error_response(self, responses: dict[str, Any], status_code: str) -> bool:
        declared = {str(e.status) for e in self.declared_error_codes()}
        if status_code in declared and status_code not in responses:
            return True
        if status_code in EXTRA_ERROR_SERIALIZERS:
            return False
        return bool(super()._should_add_error_response(responses, status_code))

    def _get_error_response_serializer(self, status_code: str) -> Any:
        if status_code in EXTRA_ERROR_SERIALIZERS:
            return EXTRA_ERROR_SERIALIZERS[status_code]
        return super()._get_error_response_serializer(status_code)

    def _determine_fields_with_error_codes(self) -> list[Any]:
        request = self.get_request_serializer() if self.method in ("PUT", "PATCH", "POST") else None
        if isinstance(request, dict):  # one serializer per media type (uploads: multipart)
            fields = []
            for serializer in request.values():
                if isinstance(serializer, serializers.BaseSerializer):
                    fields += get_serializer_fields_with_error_codes(
                        get_flat_serializer_fields(serializer)
                    )
            return fields
        fields = list(super()._determine_fields_with_error_codes())
        params_class = getattr(self.view, "params_class", None)
        if params_class is not None and self.method == "GET":
            fields += get_serializer_fields_with_error_codes(
                get_flat_serializer_fields(params_class())
            )
        return fields

    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        extra: dict[str, set[str]] = dict(super()._get_extra_validation_errors())
        for error in self.declared_error_codes():
            if error.status == 400 and error.attr not in (None, errors.UNKNOWN_FIELD.attr):
                extra.setdefault(str(error.attr), set()).add(error.code)
        return extra

    def _get_error_response_examples(self) -> list[OpenApiExample]:
        examples = list(super()._get_error_response_examples())
        for error in self.declared_error_codes():
            body = error.body()
            if error == errors.UNKNOWN_FIELD:
                body["errors"][0]["attr"] = UNKNOWN_FIELD_EXAMPLE_ATTR
            name = "".join(part.capitalize() for part in error.code.split("_"))
            if error.attr and error.attr != errors.UNKNOWN_FIELD.attr:
                name += "".join(part.capitalize() for part in error.attr.split("_"))
            examples.append(
                OpenApiExample(
                    name, value=body, status_codes=[str(error.status)], response_only=True
                )
            )
        return examples

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)  # type: ignore[no-untyped-call]
        if direction == "request" and isinstance(serializer, StrictSerializerMixin):
            schema["additionalProperties"] = False
        return schema


UNKNOWN_FIELD_COMPONENT = "UnknownFieldErrorComponent"


def document_error_codes(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the shared ``ErrorCode<status>Enum`` lists every registered code of
    that status (``tenants.api.errors``), and each operation whose request body refuses
    unknown fields documents the ``unknown_field`` error among its validation errors."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for status_code, codes in errors.codes_by_status().items():
        name = "ParseErrorCodeEnum" if status_code == 400 else f"ErrorCode{status_code}Enum"
        enum = schemas.get(name)
        if enum is not None:
            enum["enum"] = [*enum["enum"], *(c for c in codes if c not in enum["enum"])]
            enum["description"] = "\n".join(f"* `{code}`" for code in enum["enum"])
    strict_bodies = {
        name for name, schema in schemas.items() if schema.get("additionalProperties") is False
    }
    used = False
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            refs = {
                media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                for media in operation["requestBody"].get("content", {}).values()
            }
            if not refs & strict_bodies:
                continue
            component = schemas.get(f"{camelize(operation['operationId'])}Error")
            if component is None or "oneOf" not in component:
                continue
            component["oneOf"].append({"$ref": f"#/components/schemas/{UNKNOWN_FIELD_COMPONENT}"})
            # Any name can be unknown: ``attr`` no longer picks the component by itself.
            component.pop("discriminator", None)
            used = True
    if used:
        schemas[UNKNOWN_FIELD_COMPONENT] = {
            "type": "object",
            "description": "A field the request schema does not declare; `attr` names it.",
            "properties": {
                "attr": {"type": "string"},
                "code": {"type": "string", "enum": [errors.UNKNOWN_FIELD.code]},
                "detail": {"type": "string"},
            },
            "required": ["attr", "code", "detail"],
        }
    return result
