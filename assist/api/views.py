from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from assist import selectors, services, suggestions
from assist.api.serializers import (
    OptionsRequestSerializer,
    OptionsSerializer,
    PhraseCreateSerializer,
    PhraseSerializer,
    PhrasesQuerySerializer,
    PhrasesSerializer,
    PhraseUpdateSerializer,
    PreferencesSerializer,
    PreferencesUpdateSerializer,
    SuggestionsQuerySerializer,
    SuggestionsSerializer,
)
from assist.learning import assist_model_erase
from assist.shapes import phrase_data, preferences_data
from kernel.api import BAD_REQUEST, ID_SCHEMA, NOT_FOUND, UNAUTHORIZED, parse_id, validated
from users.selectors import user_get

PHRASE_ID = OpenApiParameter("id", ID_SCHEMA, OpenApiParameter.PATH, description="The phrase's id.")


def _identity(request) -> str | None:
    return getattr(request.user, "clerk_id", None)


class AssistViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="assist_suggestions",
        summary="Words and replies for what the caller has typed so far",
        description="`words`: up to 4 completions of the partial word at the end of `text`, or predictions of the "
        "next word after a space. `replies`: up to 3 whole messages starting with `text`; with an empty `text`, "
        "likely replies to the last message `to` sent you. Learned from your own messages only.",
        parameters=[SuggestionsQuerySerializer],
        responses={200: SuggestionsSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
        examples=[OpenApiExample("Typing", value={"words": ["you", "your"], "replies": ["How are you?"]})],
    )
    def suggestions(self, request):
        query = validated(SuggestionsQuerySerializer, request.query_params)
        return Response(
            suggestions.suggestions_get(
                clerk_id=request.user.clerk_id, text=query["text"], to_clerk_id=query.get("to") or None
            )
        )

    @extend_schema(
        operation_id="assist_model_erase",
        summary="Erase what the server learned from your messages",
        request=None,
        responses={204: None, 401: UNAUTHORIZED},
    )
    def erase(self, request):
        assist_model_erase(clerk_id=request.user.clerk_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatOptionsViewSet(viewsets.ViewSet):
    # The frontend calls this with no identity header: it then gets the base model's replies.
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="chat_options",
        summary="Four reply options for a message (the frontend's AI-responses call)",
        description="Without identity: replies from the base model only; with it, your own replies first.",
        request=OptionsRequestSerializer,
        responses={200: OptionsSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def options(self, request):
        message = validated(OptionsRequestSerializer, request.data)["message"]
        options = suggestions.reply_options(clerk_id=_identity(request), message=message)
        return Response({"options": options, "recent_history": [[message, *options]]})


class PhraseViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="phrases_list",
        summary="Your phrase board, or the messages you send most",
        parameters=[PhrasesQuerySerializer],
        responses={200: PhrasesSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def index(self, request):
        query = validated(PhrasesQuerySerializer, request.query_params)
        me = request.user.clerk_id
        if query["source"] == "frequent":
            return Response({"phrases": selectors.phrases_frequent(clerk_id=me)})
        phrases = selectors.phrases_list(clerk_id=me, category=query.get("category"))
        return Response({"phrases": [phrase_data(p) for p in phrases]})

    @extend_schema(
        operation_id="phrases_create",
        summary="Add a phrase to your board (your other devices get phrases_changed)",
        request=PhraseCreateSerializer,
        responses={201: PhraseSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def create(self, request):
        data = validated(PhraseCreateSerializer, request.data)
        phrase = services.phrase_create(clerk_id=request.user.clerk_id, **data)
        return Response(phrase_data(phrase), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="phrases_update",
        summary="Change a phrase's text, category or position",
        parameters=[PHRASE_ID],
        request=PhraseUpdateSerializer,
        responses={200: PhraseSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def update_one(self, request, id):
        phrase_id = parse_id(id)
        data = validated(PhraseUpdateSerializer, request.data)
        phrase = services.phrase_update(clerk_id=request.user.clerk_id, phrase_id=phrase_id, **data)
        return Response(phrase_data(phrase))

    @extend_schema(
        operation_id="phrases_delete",
        summary="Remove a phrase",
        parameters=[PHRASE_ID],
        responses={204: None, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def destroy(self, request, id):
        services.phrase_delete(clerk_id=request.user.clerk_id, phrase_id=parse_id(id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _preferences_body(clerk_id: str, preferences) -> dict:
    user = user_get(clerk_id=clerk_id)
    default = selectors.typing_timeout_default(is_paralyzed=bool(user and user.is_paralyzed))
    return preferences_data(preferences, typing_timeout_default=default)


class PreferencesViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="preferences_retrieve",
        summary="Your accessibility preferences",
        responses={200: PreferencesSerializer, 401: UNAUTHORIZED},
    )
    def retrieve_mine(self, request):
        me = request.user.clerk_id
        return Response(_preferences_body(me, selectors.preferences_get(clerk_id=me)))

    @extend_schema(
        operation_id="preferences_update",
        summary="Change your accessibility preferences (your sockets get preferences_updated)",
        request=PreferencesUpdateSerializer,
        responses={200: PreferencesSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def update_mine(self, request):
        me = request.user.clerk_id
        data = validated(PreferencesUpdateSerializer, request.data)
        return Response(_preferences_body(me, services.preferences_update(clerk_id=me, **data)))
