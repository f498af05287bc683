-- A real Neovim (0.7) LSP client session against `editloop serve`.
-- Env: EDITLOOP_PY (python), EDITLOOP_HOME (data folder), EDITLOOP_OUT (result file).
local py = os.getenv("EDITLOOP_PY")
local out = os.getenv("EDITLOOP_OUT")
local function finish(code, msg)
  local f = io.open(out, "w"); f:write(msg); f:close()
  vim.cmd("cquit " .. code)
end

local ok, err = pcall(function()
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_name(buf, "/tmp/editloop-nvim-test/model.mmd")
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {
    "%% written by an assistant",
    "erDiagram",
    "    CUSTOMER ||--o{ ORDER : places",
    "    ORDER ||--|{ LINE_ITEM : contains",
  })
  local client_id = vim.lsp.start_client({
    name = "editloop",
    cmd = { py, "-m", "editloop", "serve" },
    init_options = { dataDir = os.getenv("EDITLOOP_HOME") },
    flags = { debounce_text_changes = 0 },
    handlers = { ["editloop/regions"] = function() end },
  })
  assert(client_id, "start_client failed")
  vim.lsp.buf_attach_client(buf, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(15000, function() return client.initialized end, 50), "server did not initialize")
  local uri = vim.uri_from_bufnr(buf)
  local r = client.request_sync("workspace/executeCommand", {
    command = "editloop.track",
    arguments = { { uri = uri, prompt = "customers place orders of products", model = "nvim-test",
      artifactType = "mermaid-erd",
      range = { start = { line = 1, character = 0 }, ["end"] = { line = 3, character = 37 } } } },
  }, 10000, buf)
  assert(r and r.result, "track failed: " .. vim.inspect(r))
  local rid = r.result.regionId
  -- The user edits inside the region: quote a relationship label, like a real edit would.
  vim.api.nvim_buf_set_text(buf, 2, 28, 2, 34, { '"places"' })
  vim.wait(300)
  local a = client.request_sync("workspace/executeCommand", {
    command = "editloop.accept", arguments = { { regionId = rid } } }, 10000, buf)
  assert(a and a.result, "accept failed: " .. vim.inspect(a))
  local d = client.request_sync("workspace/executeCommand", {
    command = "editloop.region", arguments = { { regionId = rid } } }, 10000, buf)
  finish(0, vim.fn.json_encode({ accept = a.result, region = d.result }))
end)
if not ok then finish(3, "error: " .. tostring(err)) end
