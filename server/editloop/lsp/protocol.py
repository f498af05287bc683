"""Document sync goes to Editloop's own documents (pygls's workspace copy is not kept).

The capture core must see every change *before* it is applied, to move tracked regions, and it
keeps the text as lines it edits in place (fast for large documents), so the three built-in
document handlers are replaced here and forward to :mod:`editloop.lsp.documents`.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method


class EditloopProtocol(LanguageServerProtocol):
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        from .documents import did_open

        did_open(self._server, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        from .documents import did_change

        did_change(self._server, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        from .documents import did_close

        did_close(self._server, params)
