from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsConsoleAdmin
from apps.sessions.api.serializers import SessionFilterSerializer, SessionOutputSerializer
from apps.sessions.selectors import session_get, sessions_page_for_console
from apps.sessions.services import session_destroy


class SessionListApi(APIView):
    """All sessions, for admins, a page at a time (`page`, 100 each): filter by status, agent and owner."""

    permission_classes = [IsConsoleAdmin]

    @extend_schema(
        operation_id="console_sessions_list",
        parameters=[SessionFilterSerializer],
        responses=SessionOutputSerializer(many=True),
    )
    def get(self, request):
        filters = SessionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = dict(filters.validated_data)
        page = sessions_page_for_console(number=values.pop("page", 1), **values)
        return Response(SessionOutputSerializer(page, many=True).data)


class SessionDetailApi(APIView):
    permission_classes = [IsConsoleAdmin]

    @extend_schema(responses=SessionOutputSerializer)
    def get(self, request, kasm_id):
        session = session_get(kasm_id)
        if session is None:
            return Response({"error_message": "No such session."}, status=status.HTTP_404_NOT_FOUND)
        return Response(SessionOutputSerializer(session).data)

    @extend_schema(responses={202: None})
    def delete(self, request, kasm_id):
        session = session_get(kasm_id)
        if session is None:
            return Response({"error_message": "No such session."}, status=status.HTTP_404_NOT_FOUND)
        session_destroy(session=session, reason=f"destroyed by admin {request.user.username}")
        return Response(status=status.HTTP_202_ACCEPTED)
