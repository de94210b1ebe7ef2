/** Entry of /join (and /): the student join form. */
import { mountPage } from '../lib/mount.tsx';
import { JoinPage } from './JoinPage.tsx';
import messages from './messages.ts';
import './join.css';

mountPage(<JoinPage />, messages);
